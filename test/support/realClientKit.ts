/**
 * Helpers for the end-to-end tests that drive real WebDAV clients (rclone, cadaver, the `webdav`
 * npm client, davfs2) against a real keepdav: finding a program, temporary directories, walking
 * and comparing trees on disk, and a child-process runner with a timeout and a clean environment.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `program` can be found on PATH. */
export function programAvailable(program: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** True when `program args` runs and exits 0 (synchronous: only for checks before any server runs). */
export function programRuns(program: string, args: string[]): boolean {
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

/**
 * The `it` to use for a test needing `program`: outside CI a machine without it skips the test,
 * loudly; in CI the test always runs (and fails without the program).
 */
export function itWhenInstalled(program: string, available: boolean, installHint: string): jest.It {
  if (!available) {
    console.error(`${program} is NOT installed: its end-to-end tests are skipped${process.env.CI ? ' (but CI runs them and fails)' : ''} (${installHint})`);
  }
  return available || process.env.CI ? it : it.skip;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `keepdav-e2e-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The environment for a child process, without variables that would configure the client from outside. */
export function cleanEnv(extra: Record<string, string> = {}, dropPrefixes: string[] = ['RCLONE_']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!dropPrefixes.some((p) => k.startsWith(p)) && !/^(http|https|all|no)_proxy$/i.test(k)) env[k] = v;
  }
  return { ...env, LC_ALL: 'C.UTF-8', ...extra };
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for messages and assertions. */
  output: string;
  error?: Error;
}

/**
 * Runs a program asynchronously (the keepdav under test runs in this very process, so a
 * synchronous spawn would block it), with a timeout (SIGKILL) and optional standard input.
 */
export function run(program: string, args: string[], options: SpawnOptions & { timeoutMs?: number; input?: string | Buffer } = {}): Promise<RunResult> {
  const { timeoutMs = 120_000, input, ...rest } = options;
  return new Promise((resolve) => {
    const child = spawn(program, args, { ...rest, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: Error | undefined;
    const timer = setTimeout(() => {
      error = new Error(`${program} timed out after ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => {
      error = e;
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ status, signal, stdout, stderr, output: `${stdout}\n${stderr}`, error });
    });
    child.stdin?.end(input);
  });
}

/**
 * Runs a program like `run`, calling `onLine` with each line of its output (stdout and stderr) as
 * it comes, so a test can act at a precise point of the program's exchange with the server.
 */
export function runWatching(program: string, args: string[], onLine: (line: string) => void, options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const { timeoutMs = 120_000, ...rest } = options;
  return new Promise((resolve) => {
    const child = spawn(program, args, { ...rest, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    let partial = '';
    let error: Error | undefined;
    const timer = setTimeout(() => {
      error = new Error(`${program} timed out after ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    const feed = (data: Buffer) => {
      const text = data.toString('utf8');
      chunks.push(text);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
    child.on('error', (e) => {
      error = e;
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const output = chunks.join('');
      resolve({ status, signal, stdout: output, stderr: '', output, error });
    });
  });
}

export interface TreeEntry {
  /** Path relative to the tree root, with `/` separators. */
  path: string;
  isDir: boolean;
  size: number;
  /** Whole seconds since the epoch. */
  mtimeSec: number;
  sha256: string;
}

/**
 * Every file and directory under `root` (not following symlinks), sorted by path; the root's
 * `.keepdav-state-id` (which ties it to its state, never reachable by URL) is no client content.
 */
export function walkTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (dir: string, rel: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (rel === '' && d.name === '.keepdav-state-id') continue;
      const abs = join(dir, d.name);
      const relPath = rel === '' ? d.name : `${rel}/${d.name}`;
      const st = statSync(abs);
      if (d.isDirectory()) {
        out.push({ path: relPath, isDir: true, size: 0, mtimeSec: Math.floor(st.mtimeMs / 1000), sha256: '' });
        visit(abs, relPath);
      } else {
        const sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
        out.push({ path: relPath, isDir: false, size: st.size, mtimeSec: Math.floor(st.mtimeMs / 1000), sha256 });
      }
    }
  };
  visit(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Files only, as `path → sha256:size`, for a whole-tree byte comparison with a readable diff. */
export function fileDigests(root: string): Record<string, string> {
  return Object.fromEntries(walkTree(root).filter((e) => !e.isDir).map((e) => [e.path, `${e.sha256}:${e.size}`]));
}

/** Files only, as `path → mtime seconds`. */
export function fileMtimes(root: string): Record<string, number> {
  return Object.fromEntries(walkTree(root).filter((e) => !e.isDir).map((e) => [e.path, e.mtimeSec]));
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
