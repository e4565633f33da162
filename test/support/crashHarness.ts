/**
 * The kill -9 harness (issue 8, "fault tests"): keepdav runs as a child process over one root and
 * state; a trial prepares files under its own directory, runs operations, and the server dies,
 * either by itself at a journaled step (`KEEPDAV_CRASH_AT`, src/faults/crashPoint.ts) or by a
 * SIGKILL from here at a random instant. The next start (which must be listening within 3 s of CPU time)
 * recovers, and `checkTrial` asserts what the issue asks after every crash:
 *   nothing torn     the trial's directory is exactly its state before or after an operation (tree
 *                    operations) or every file holds one of the contents ever sent (storms);
 *   nothing lost     every content that was there before, and every acknowledged one, is served or
 *                    listed as a retained version (read back over HTTP, byte for byte);
 *   no orphans       no pending version or intent remains, and the retained bytes on disk are
 *                    exactly those the versions name.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startChildServer, type ChildServer } from './childServer';
import type { RequestOptions, TestResponse, TestServer } from './testServer';

const REPO = join(__dirname, '..', '..');

export const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** Compiles dist/ when src/ is newer (bin/keepdav.js would otherwise start through ts-node, seconds per start). */
export function ensureFreshBuild(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  const compiled = join(REPO, 'dist', 'cli.js');
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newest(join(REPO, 'src'))) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, stdio: 'inherit' });
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a live process, ms (Linux /proc/PID/stat fields 14 and 15); null elsewhere. */
function cpuMsOf(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** A file tree: relative path -> content; a path ending in "/" is an (empty) collection. */
export type Tree = Record<string, string>;

export class CrashLab {
  server: ChildServer | null = null;
  private constructor(readonly base: string, readonly root: string, readonly state: string) {}

  static async create(): Promise<CrashLab> {
    const base = await mkdtemp(join(tmpdir(), 'keepdav-kill9-'));
    await mkdir(join(base, 'root'));
    return new CrashLab(base, join(base, 'root'), join(base, 'state'));
  }

  /**
   * Starts the server (killing any previous one), armed to crash at `crashAt`; returns the time
   * the start took until "listening": the CPU time the process used (from /proc, so that a machine
   * shared by many test runs does not decide the verdict), or the wall time where there is no /proc.
   */
  async boot(crashAt?: string): Promise<number> {
    await this.server?.kill9();
    const started = Date.now();
    this.server = await startChildServer(this.root, this.state, ['--retain-versions', '100000'], 30_000, crashAt ? { KEEPDAV_CRASH_AT: crashAt } : {});
    return cpuMsOf(this.server.child.pid) ?? Date.now() - started;
  }

  private killAfterMs: number | null = null;
  /** Whether the last armed kill has fired. */
  killed: Promise<void> = Promise.resolve();

  /** Makes the next request start a timer that SIGKILLs the server `ms` later (random kills at full speed). */
  armKill(ms: number): void {
    this.killAfterMs = ms;
  }

  /** A request; null when the connection failed (the server died under it). */
  async request(method: string, path: string, options?: RequestOptions): Promise<TestResponse | null> {
    if (this.killAfterMs !== null) {
      const server = this.server!;
      const ms = this.killAfterMs;
      this.killAfterMs = null;
      this.killed = new Promise((resolve) => setTimeout(() => void server.kill9().then(resolve), ms));
    }
    try {
      return await this.server!.request(method, path, options);
    } catch {
      return null;
    }
  }

  /** Waits for the server to die by itself (a crash point); false when it is still alive after `ms`. */
  async diedByItself(ms = 10_000): Promise<boolean> {
    const child = this.server!.child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return child.signalCode === 'SIGKILL';
  }

  async kill9(): Promise<void> {
    await this.server?.kill9();
  }

  async close(): Promise<void> {
    await this.server?.kill9();
    await rm(this.base, { recursive: true, force: true });
  }

  /** Writes `tree` under /dir on disk (behind the server's back, as a user might: no crash point is passed). */
  async writeTree(dir: string, tree: Tree): Promise<void> {
    for (const [rel, content] of Object.entries(tree)) {
      const host = join(this.root, dir, rel);
      if (rel.endsWith('/')) await mkdir(host, { recursive: true });
      else {
        await mkdir(join(host, '..'), { recursive: true });
        await writeFile(host, content);
      }
    }
  }

  /** What is served under /dir now: relative path -> sha of the content ("/" suffix for collections); reserved names left out. */
  async snapshot(dir: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.root, dir, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.name.startsWith('.keepdav-')) continue;
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          out.set(r + '/', 'dir');
          await walk(r);
        } else if (e.isFile()) out.set(r, sha(await readFile(join(this.root, dir, r))));
      }
    };
    await walk('');
    return out;
  }

  /** The shas of every retained version of a path at or below /dir, read back over HTTP. */
  async retainedShas(dir: string, paths: Iterable<string>): Promise<Set<string>> {
    const ids = new Map<string, string>(); // id -> path
    // Every page of the trash (it names the next one while more follow).
    for (let url: string | undefined = `/${dir}/?trash`; url; ) {
      const trash = await this.request('GET', url);
      expect(trash?.status).toBe(200);
      const page = JSON.parse(trash!.text) as { deleted: Array<{ path: string; versions: string[] }>; next?: string };
      for (const e of page.deleted) for (const id of e.versions) ids.set(id, e.path);
      url = page.next;
    }
    for (const p of new Set(paths)) {
      const res = await this.request('GET', `/${dir}/${p.split('/').map(encodeURIComponent).join('/')}?versions`);
      expect(res?.status).toBe(200);
      for (const v of (JSON.parse(res!.text) as { versions: Array<{ id: string }> }).versions) ids.set(v.id, `/${dir}/${p}`);
    }
    // Every listed version's bytes are read where the state keeps them, and a sample (all, for
    // small trials) is fetched over HTTP too and must be the same bytes.
    const db = new Database(join(this.state, 'keepdav.sqlite'), { readonly: true, fileMustExist: true });
    const storageOf = db.prepare<[string], { storage: string }>('SELECT storage FROM retained_versions WHERE id = ?');
    const shas = new Set<string>();
    const all = [...ids];
    try {
      for (const [id] of all) {
        const row = storageOf.get(id);
        expect({ id, listedButUnknown: row === undefined }).toEqual({ id, listedButUnknown: false });
        shas.add(sha(await readFile(join(this.state, 'retained', ...row!.storage.split('/')))));
      }
    } finally {
      db.close();
    }
    const sample = all.length <= 64 ? all : all.filter((_, i) => i % Math.ceil(all.length / 64) === 0);
    for (let i = 0; i < sample.length; i += 8) {
      await Promise.all(sample.slice(i, i + 8).map(async ([id, path]) => {
        const res = await this.request('GET', `${path.split('/').map(encodeURIComponent).join('/')}?version=${id}`);
        expect(res?.status).toBe(200);
        expect(shas.has(sha(res!.body))).toBe(true);
      }));
    }
    return shas;
  }

  /** No pending version, no open intent, and the retained files on disk are exactly those the versions name. */
  async assertNoOrphans(): Promise<void> {
    const db = new Database(join(this.state, 'keepdav.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const pending = db.prepare("SELECT COUNT(*) AS n FROM retained_versions WHERE reason = 'pending'").get() as { n: number };
      const intents = db.prepare('SELECT COUNT(*) AS n FROM intents').get() as { n: number };
      expect({ pending: pending.n, intents: intents.n }).toEqual({ pending: 0, intents: 0 });
      const named = (db.prepare('SELECT storage FROM retained_versions').all() as { storage: string }[]).map((r) => r.storage).sort();
      const onDisk: string[] = [];
      const walk = (rel: string): void => {
        const host = join(this.state, 'retained', rel);
        if (!existsSync(host)) return;
        for (const e of readdirSync(host, { withFileTypes: true })) {
          const r = rel === '' ? e.name : `${rel}/${e.name}`;
          if (e.isDirectory()) walk(r);
          else onDisk.push(r);
        }
      };
      walk('');
      expect(onDisk.sort()).toEqual(named);
    } finally {
      db.close();
    }
  }

  /** PROPFIND-backed reader for conflictKit.propOf. */
  asTestServer(): TestServer {
    return { request: async (m: string, p: string, o?: RequestOptions) => (await this.request(m, p, o)) ?? { status: 0 } } as unknown as TestServer;
  }
}

/** What one trial expects: the trial's directory before and after its operations, and contents acknowledged as written. */
export interface TrialExpectation {
  dir: string;
  label: string;
  /** Whole states the directory may be in (tree operations: before and after); empty: storms, checked per file. */
  states: Array<Map<string, string>>;
  before: Map<string, string>;
  /** Contents sent in the trial, per path (storms: every file must hold one of these or one from before). */
  sent: Map<string, Set<string>>;
  /** Contents whose write was acknowledged (2xx), per path. */
  acknowledged: Map<string, Set<string>>;
  /** Whether the operation was acknowledged (then only the last state is allowed). */
  operationAcknowledged: boolean;
  /** More checks after the restart (PROPPATCH bursts: every acknowledged property is there). */
  afterRestart?: (lab: CrashLab) => Promise<void>;
}

/** After a restart: the trial's directory is whole, nothing acknowledged or previously there is lost, no orphans. */
export async function checkTrial(lab: CrashLab, x: TrialExpectation): Promise<void> {
  const served = await lab.snapshot(x.dir);
  const show = (m: Map<string, string>) => JSON.stringify([...m].sort());
  if (x.states.length > 0) {
    const allowed = x.operationAcknowledged ? x.states.slice(-1) : x.states;
    expect({ trial: x.label, served: show(served), match: allowed.some((s) => show(s) === show(served)) }).toEqual({ trial: x.label, served: show(served), match: true });
  } else {
    for (const [path, got] of served) {
      if (got === 'dir') continue;
      const candidates = new Set([x.before.get(path), ...(x.sent.get(path) ?? [])]);
      expect({ trial: x.label, path, torn: !candidates.has(got) }).toEqual({ trial: x.label, path, torn: false });
    }
  }
  const mustKeep = new Set<string>();
  for (const [, s] of x.before) if (s !== 'dir') mustKeep.add(s);
  for (const [, set] of x.acknowledged) for (const s of set) mustKeep.add(s);
  const servedShas = new Set(served.values());
  const missing = [...mustKeep].filter((s) => !servedShas.has(s));
  if (missing.length > 0) {
    // Deleted paths come from ?trash; a path still served that lost a content keeps it in its ?versions.
    const lostAt = (p: string) => missing.includes(x.before.get(p) ?? '') || [...(x.acknowledged.get(p) ?? [])].some((s) => missing.includes(s));
    const paths = [...new Set([...x.before.keys(), ...x.acknowledged.keys()])].filter((p) => served.has(p) && lostAt(p));
    const retained = await lab.retainedShas(x.dir, paths);
    expect({ trial: x.label, lost: missing.filter((s) => !retained.has(s)) }).toEqual({ trial: x.label, lost: [] });
  }
  await x.afterRestart?.(lab);
  await lab.assertNoOrphans();
}

/** The state of a directory as a map, from a Tree (collections implied by their members). */
export function stateOf(tree: Tree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rel, content] of Object.entries(tree)) {
    if (rel.endsWith('/')) {
      out.set(rel, 'dir');
      continue;
    }
    out.set(rel, sha(content));
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) out.set(parts.slice(0, i).join('/') + '/', 'dir');
  }
  return out;
}

/** A deterministic content for a path and a generation (distinct for distinct pairs). */
export function contentOf(path: string, generation: number, size = 64): string {
  const line = `${path}#${generation};`;
  return line.repeat(Math.max(1, Math.ceil(size / line.length))).slice(0, Math.max(size, line.length));
}
