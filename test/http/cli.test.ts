/**
 * The keepdav command (bin/keepdav.js, src/cli.ts) as a user runs it: it announces where it
 * listens, serves, stops cleanly on SIGTERM and SIGINT, documents its options, and refuses
 * unusable settings with a message and a non-zero exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { send } from '../support/testServer';
import { KEEPDAV_BIN, KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

const REPO = resolve(__dirname, '..', '..');
const BIN = KEEPDAV_BIN;
const START_TIMEOUT = 30_000;

jest.setTimeout(90_000);

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];

function run(args: string[]): Run {
  const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with the URL once a stdout line says "listening" and names http://127.0.0.1:PORT/. */
function listening(r: Run): Promise<{ line: string; url: string; port: number }> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no "listening" line within ${START_TIMEOUT} ms; stdout=${r.stdout()} stderr=${r.stderr()}`)), START_TIMEOUT);
    const check = () => {
      for (const line of r.stdout().split('\n')) {
        const m = /(http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(line);
        if (/listening/i.test(line) && m) {
          clearTimeout(timer);
          r.child.stdout!.off('data', check);
          res({ line, url: m[1], port: Number(m[2]) });
          return;
        }
      }
    };
    r.child.stdout!.on('data', check);
    void r.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`exited (${code ?? signal}) before listening; stdout=${r.stdout()} stderr=${r.stderr()}`));
    });
    check();
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what}: nothing within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(timer); res(v); }, (e) => { clearTimeout(timer); rej(e); });
  });
}

let base: string;
let root: string;
let state: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-cli-'));
  root = join(base, 'root');
  state = join(base, 'state');
  await mkdir(root);
});

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(base, { recursive: true, force: true });
});

describe('keepdav serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('announces its URL, serves a PUT, and exits 0 on %s', async (signal) => {
    const r = run(['serve', '--root', root, '--state', state, '--port', '0', '--host', '127.0.0.1']);
    const { url, port } = await listening(r);
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    expect(port).toBeGreaterThan(0);

    const name = `cli-${signal}.txt`;
    const put = await send(port, undefined, 'PUT', `/${name}`, { body: `written while serving (${signal})` });
    expect(put.status).toBe(201);
    expect(await readFile(join(root, name), 'utf8')).toBe(`written while serving (${signal})`);
    const get = await send(port, undefined, 'GET', `/${name}`);
    expect(get.status).toBe(200);
    expect(get.text).toBe(`written while serving (${signal})`);
    // The state directory was used where it was told to be.
    expect((await readdir(state)).length).toBeGreaterThan(0);

    r.child.kill(signal);
    const { code, signal: killedBy } = await withTimeout(r.exited, 20_000, `exit after ${signal}`);
    expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
    // The port is released.
    await expect(send(port, undefined, 'GET', '/')).rejects.toThrow();
  });

  it('serves what an earlier run stored (same root and state)', async () => {
    const r = run(['serve', '--root', root, '--state', state, '--port', '0', '--host', '127.0.0.1']);
    const { port } = await listening(r);
    const get = await send(port, undefined, 'GET', '/cli-SIGTERM.txt');
    expect(get.status).toBe(200);
    expect(get.text).toBe('written while serving (SIGTERM)');
    r.child.kill('SIGTERM');
    expect((await withTimeout(r.exited, 20_000, 'exit')).code).toBe(0);
  });
});

describe('keepdav --help', () => {
  it.each([['--help'], ['serve', '--help'], ['-h']])('%s prints every option and exits 0', async (...args) => {
    const r = run(args);
    const { code } = await withTimeout(r.exited, START_TIMEOUT, 'help');
    expect(code).toBe(0);
    const out = r.stdout();
    for (const option of ['--root', '--state', '--port', '--host']) expect(out).toContain(option);
    expect(out).toMatch(/serve/);
  });
});

describe('keepdav refuses what cannot work', () => {
  async function refused(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const r = run(args);
    const { code } = await withTimeout(r.exited, START_TIMEOUT, args.join(' '));
    return { code, stderr: r.stderr(), stdout: r.stdout() };
  }

  /** A message for people: one or a few lines, no stack trace. */
  function expectClearMessage(stderr: string): void {
    expect(stderr.trim()).not.toBe('');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
  }

  it('an unknown option exits non-zero with a message on stderr naming it', async () => {
    const { code, stderr, stdout } = await refused(['serve', '--root', root, '--bogus-option', '--port', '0']);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain('--bogus-option');
    expectClearMessage(stderr);
    expect(stdout).not.toMatch(/listening/i);
  });

  it('an unknown command exits non-zero with a message on stderr', async () => {
    const { code, stderr } = await refused(['frobnicate']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('frobnicate');
    expectClearMessage(stderr);
  });

  it('a non-numeric port exits non-zero with a message', async () => {
    const { code, stderr, stdout } = await refused(['serve', '--root', root, '--state', state, '--port', 'eighty']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/port/i);
    expectClearMessage(stderr);
    expect(stdout).not.toMatch(/listening/i);
  });

  it('a root that does not exist exits non-zero with a clear message', async () => {
    const missing = join(base, 'no-such-root');
    const { code, stderr, stdout } = await refused(['serve', '--root', missing, '--state', join(base, 'state-missing'), '--port', '0', '--host', '127.0.0.1']);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stdout).not.toMatch(/listening/i);
    expect(stderr).toMatch(/root/i);
    expect(stderr).toMatch(/not exist|no such|not found|missing/i);
    expectClearMessage(stderr);
  });

  it('a root that is a file exits non-zero with a clear message', async () => {
    const file = join(base, 'a-file');
    await writeFile(file, 'not a directory');
    const { code, stderr, stdout } = await refused(['serve', '--root', file, '--state', join(base, 'state-file'), '--port', '0', '--host', '127.0.0.1']);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stdout).not.toMatch(/listening/i);
    expect(stderr).toMatch(/root/i);
    expect(stderr).toMatch(/not a directory|directory/i);
    expectClearMessage(stderr);
  });

  it('a state directory inside the root is refused, and nothing is created in the root', async () => {
    const inner = join(root, 'state-inside');
    const { code, stderr, stdout } = await refused(['serve', '--root', root, '--state', inner, '--port', '0', '--host', '127.0.0.1']);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stdout).not.toMatch(/listening/i);
    expect(stderr).toMatch(/state/i);
    expect(stderr).toMatch(/inside|within|outside/i);
    expectClearMessage(stderr);
    // The refused state directory did not end up (served) inside the root.
    expect(await readdir(root)).not.toContain('state-inside');
  });

  it('versions, trash, restore and scrub with a state that does not exist (a wrong --state) say so and create nothing', async () => {
    const missing = join(root, '..', 'no-such-state');
    const markerBefore = await readFile(join(root, '.keepdav-state-id'), 'utf8').catch(() => null);
    for (const args of [['versions', '/a.txt'], ['trash', '/'], ['restore', '/a.txt', '--version', '0123'], ['scrub']]) {
      const { code, stderr } = await refused([...args, '--root', root, '--state', missing]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/there is no state database in/);
      expectClearMessage(stderr);
    }
    expect(existsSync(missing)).toBe(false);
    // The root's mark is untouched (a restore used to re-mark it with the state it made).
    expect(await readFile(join(root, '.keepdav-state-id'), 'utf8').catch(() => null)).toBe(markerBefore);
  });

  it('the state directory equal to the root is refused', async () => {
    const { code, stderr } = await refused(['serve', '--root', root, '--state', root, '--port', '0', '--host', '127.0.0.1']);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expectClearMessage(stderr);
  });

  it('a port already in use exits non-zero with a message', async () => {
    const r = run(['serve', '--root', root, '--state', state, '--port', '0', '--host', '127.0.0.1']);
    const { port } = await listening(r);
    try {
      // Another root and state (the same state would be refused as in use, this root with another state as foreign).
      await mkdir(join(base, 'root-2'), { recursive: true });
      const second = await refused(['serve', '--root', join(base, 'root-2'), '--state', join(base, 'state-2'), '--port', String(port), '--host', '127.0.0.1']);
      expect(second.code).not.toBe(0);
      expect(second.code).not.toBeNull();
      expect(second.stderr).toMatch(/EADDRINUSE|in use/i);
      expectClearMessage(second.stderr);
    } finally {
      r.child.kill('SIGTERM');
      await withTimeout(r.exited, 20_000, 'exit');
    }
  });
});
