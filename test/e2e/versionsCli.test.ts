/**
 * The `keepdav versions` and `keepdav restore` commands (README "Nothing is lost"), run as real
 * processes against the state a server left: one line per version, newest first (id, ISO time,
 * size, ETag, reason); restore brings the bytes back on disk; bad input exits non-zero.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { hdr } from '../support/conflictKit';
import { KEEPDAV_BIN, KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

const REPO = join(__dirname, '..', '..');
const BIN = KEEPDAV_BIN;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Line {
  id: string;
  time: string;
  size: number;
  etag: string;
  reason: string;
  raw: string;
}

function parseLines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((raw) => {
      const m = /^(\S+)\s+(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s+(\d+)\s+("[^"]*")\s+(\S+)/.exec(raw);
      if (!m) throw new Error(`unexpected versions line: ${JSON.stringify(raw)}`);
      return { id: m[1], time: m[2], size: Number(m[3]), etag: m[4], reason: m[5], raw };
    });
}

let t: TestServer;
const etags: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  for (const body of ['first version', 'second version!!', 'third version, the last']) {
    const res = await t.request('PUT', '/f.txt', { body });
    expect([201, 204]).toContain(res.status);
    etags.push(hdr(res, 'etag')!);
  }
  expect((await t.request('DELETE', '/f.txt')).status).toBe(204);
}, 30_000);

afterAll(async () => {
  await t.close();
});

const args = (cmd: string, path: string, extra: string[] = []) => [cmd, path, '--root', t.root, '--state', t.stateDir, ...extra];

describe('keepdav versions', () => {
  it('lists one line per version, newest first: id, ISO time, size, ETag, reason (server running)', async () => {
    const r = await cli(args('versions', '/f.txt'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines.map((l) => [l.reason, l.size, l.etag])).toEqual([
      ['delete', 23, etags[2]],
      ['overwrite', 16, etags[1]],
      ['overwrite', 13, etags[0]],
    ]);
    const times = lines.map((l) => Date.parse(l.time));
    expect(times[0]).toBeGreaterThanOrEqual(times[1]);
    expect(times[1]).toBeGreaterThanOrEqual(times[2]);
    expect(Math.abs(Date.now() - times[0])).toBeLessThan(60_000);
    // the same ids as the HTTP listing
    const http = JSON.parse((await t.request('GET', '/f.txt?versions')).text) as { versions: Array<{ id: string }> };
    expect(lines.map((l) => l.id)).toEqual(http.versions.map((v) => v.id));
  }, 40_000);

  it('accepts a percent-encoded path and a path without the leading slash', async () => {
    const a = await cli(args('versions', 'f.txt'));
    const b = await cli(args('versions', '/f%2Etxt'));
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(parseLines(a.stdout).length).toBe(3);
    expect(parseLines(b.stdout).length).toBe(3);
  }, 40_000);

  it('a path with no versions prints nothing and exits 0', async () => {
    const r = await cli(args('versions', '/nothing-here.txt'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('');
  }, 40_000);
});

describe('keepdav restore', () => {
  it('brings a deleted file\'s bytes back on disk (server stopped), exit 0; the server then serves them', async () => {
    await t.stop();
    const lines = parseLines((await cli(args('versions', '/f.txt'))).stdout);
    const second = lines.find((l) => l.size === 16)!;
    const r = await cli(args('restore', '/f.txt', ['--version', second.id]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/restored/);
    expect(await readFile(join(t.root, 'f.txt'), 'utf8')).toBe('second version!!');
    await t.restart();
    const get = await t.request('GET', '/f.txt');
    expect(get.status).toBe(200);
    expect(get.text).toBe('second version!!');
  }, 60_000);

  it('restoring over an existing file retains what it replaced (server running), so it can be undone', async () => {
    const lines = parseLines((await cli(args('versions', '/f.txt'))).stdout);
    const first = lines.find((l) => l.size === 13)!;
    const r = await cli(args('restore', '/f.txt', ['--version', first.id]));
    expect(r.code).toBe(0);
    expect(await readFile(join(t.root, 'f.txt'), 'utf8')).toBe('first version');
    const get = await t.request('GET', '/f.txt');
    expect(get.text).toBe('first version');
    // the ETag the command reports is the one the running server now serves
    const printed = /new ETag ("[^"]+")/.exec(r.stdout)?.[1];
    expect(printed).toBeDefined();
    expect(hdr(get, 'etag')).toBe(printed);
    const now = parseLines((await cli(args('versions', '/f.txt'))).stdout);
    expect(now.length).toBe(lines.length + 1);
    expect(now[0].reason).toBe('restore');
    expect(now[0].size).toBe(16);
    const undo = await cli(args('restore', '/f.txt', ['--version', now[0].id]));
    expect(undo.code).toBe(0);
    expect(await readFile(join(t.root, 'f.txt'), 'utf8')).toBe('second version!!');
  }, 60_000);

  it('an unknown version id exits non-zero with a message and changes nothing', async () => {
    const before = await stat(join(t.root, 'f.txt'));
    const r = await cli(args('restore', '/f.txt', ['--version', 'ffffffff00000000deadbeef']));
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/ffffffff00000000deadbeef|version/i);
    const after = await stat(join(t.root, 'f.txt'));
    expect(after.ino).toBe(before.ino);
    expect(await readFile(join(t.root, 'f.txt'), 'utf8')).toBe('second version!!');
  }, 40_000);

  it('a version id of another path exits non-zero', async () => {
    expect((await t.request('PUT', '/g.txt', { body: 'g1' })).status).toBe(201);
    expect((await t.request('PUT', '/g.txt', { body: 'g2' })).status).toBe(204);
    const g = parseLines((await cli(args('versions', '/g.txt'))).stdout);
    expect(g.length).toBe(1);
    const r = await cli(args('restore', '/f.txt', ['--version', g[0].id]));
    expect(r.code).not.toBe(0);
    expect(await readFile(join(t.root, 'f.txt'), 'utf8')).toBe('second version!!');
  }, 40_000);

  it('a missing --version exits non-zero with a message', async () => {
    const r = await cli(args('restore', '/f.txt'));
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(/--version/);
  }, 40_000);

  // Without --root, versions and restore use ./storage like serve (test/service/startup.test.ts).
  it('a missing PATH exits non-zero with a message', async () => {
    const noPath = await cli(['versions', '--root', t.root, '--state', t.stateDir]);
    expect(noPath.code).not.toBe(0);
    expect(noPath.stderr).toMatch(/PATH/);
  }, 40_000);
});
