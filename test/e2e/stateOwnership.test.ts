/**
 * One owner per state, and a state that belongs to its root (README, "What is stored where"):
 * real server processes on one state directory; the CLI's restore beside a running server;
 * damaged state (deleted, foreign, corrupt database; retained bytes gone).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, mkdir, readdir, readFile, rm, writeFile, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from '../support/childServer';
import { codeOf } from '../support/conflictKit';
import { KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..');
const BIN = join(REPO, 'bin', 'keepdav.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `keepdav ARGS` to its end (a serve that starts is killed and reported as code -1). */
function keepdav(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      if (/listening/.test(stdout)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: /listening/.test(stdout) ? -1 : code, stdout, stderr });
    });
  });
}

/** The user the tests that need another user than root run keepdav as. */
const nobody = 65534;

/**
 * Whether this process (root) can run keepdav as the user nobody: the checkout and the node binary
 * readable and runnable by that user (CI's second pass runs a node from a private temporary
 * directory). When not, says on stderr that `what` is skipped.
 */
function canRunAsNobody(what: string): boolean {
  // Tried the way keepdavAs runs it (spawn with uid and gid): setpriv keeps root's right to
  // search directories it could not, and so says yes where the spawn then fails with EACCES.
  const can = process.getuid?.() === 0 &&
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(BIN)}.replace(/keepdav\\.js$/, 'dist-status.js'))`], { cwd: REPO, uid: nobody, gid: nobody }).status === 0;
  if (!can) console.error(`stateOwnership.test.ts: ${what} needs root and a checkout and node the user nobody can run: SKIPPED`);
  return can;
}

/** `keepdav ARGS` as user `uid` (root only), after giving it `own` (chown). */
async function keepdavAs(uid: number, args: string[], own: string[] = []): Promise<Exit> {
  for (const dir of own) spawnSync('chown', ['-R', `${uid}:${uid}`, dir]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd: REPO, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      // A moment after listening: the signal handlers are in place and the start's log lines written.
      if (/listening/.test(stdout)) setTimeout(() => child.kill('SIGTERM'), 300);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: /listening/.test(stdout) ? -1 : code, stdout, stderr });
    });
  });
}

let base: string;
const servers: ChildServer[] = [];

async function serve(root: string, state: string, extra: string[] = []): Promise<ChildServer> {
  const s = await startChildServer(root, state, extra, 120_000); // generous: under a loaded CI machine ts-node starts slowly
  servers.push(s);
  return s;
}

async function freshPair(name: string): Promise<{ root: string; state: string }> {
  const root = join(base, name, 'root');
  const state = join(base, name, 'state');
  await mkdir(root, { recursive: true });
  return { root, state };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-owner-'));
});

afterAll(async () => {
  for (const s of servers) await s.kill9();
  await rm(base, { recursive: true, force: true });
});

describe('one owner per state directory', () => {
  it('a second server on the same state refuses with one line naming the first (pid and URL); after kill -9 of the first it starts at once', async () => {
    const { root, state } = await freshPair('two');
    const first = await serve(root, state);
    const second = await keepdav(['serve', '--root', root, '--state', state, '--port', '0']);
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`pid ${first.child.pid}`);
    expect(lines[0]).toContain(first.url);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    // the first one is untouched and still serves
    expect((await first.request('PUT', '/still.txt', { body: 'here' })).status).toBe(201);

    await first.kill9();
    const third = await serve(root, state);
    expect((await third.request('GET', '/still.txt')).text).toBe('here');
    await third.stop();
  });

  it('the CLI restore while a server runs is sent to that server (its access log shows the POST); versions reads beside it', async () => {
    const { root, state } = await freshPair('restore');
    const s = await serve(root, state, ['--access-log']);
    expect((await s.request('PUT', '/f.txt', { body: 'one' })).status).toBe(201);
    expect((await s.request('PUT', '/f.txt', { body: 'two' })).status).toBe(204);
    const listed = await keepdav(['versions', '/f.txt', '--root', root, '--state', state]);
    expect(listed.code).toBe(0);
    const id = listed.stdout.trim().split(/\s+/)[0];
    expect(id).toMatch(/^[0-9a-f]{24}$/);

    const restored = await keepdav(['restore', '/f.txt', '--version', id, '--root', root, '--state', state], { KEEPDAV_USER: 'alice', KEEPDAV_PASSWORD: 'secret' });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(s.url);
    expect(await readFile(join(root, 'f.txt'), 'utf8')).toBe('one');
    expect(s.stderr()).toMatch(new RegExp(`POST /f.txt\\?restore=${id} 204`));

    const unknown = await keepdav(['restore', '/f.txt', '--version', 'ffffffff0000000000000000', '--root', root, '--state', state]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no retained version ffffffff0000000000000000/);
    await s.stop();

    // with no server running, restore takes the state itself
    const alone = await keepdav(['restore', '/f.txt', '--version', id, '--root', root, '--state', state]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/^restored \/f.txt/);
  });
});

describe('a state that belongs to its root', () => {
  it('a deleted state database beside a root that had one: refused (the lock would be silently gone) until --new-state, which moves the old state aside', async () => {
    const { root, state } = await freshPair('deleted');
    const s = await serve(root, state);
    expect((await s.request('PUT', '/locked.txt', { body: 'x' })).status).toBe(201);
    await s.stop();
    for (const f of ['keepdav.sqlite', 'keepdav.sqlite-wal', 'keepdav.sqlite-shm']) await unlink(join(state, f)).catch(() => undefined);

    const refused = await keepdav(['serve', '--root', root, '--state', state, '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/--new-state/);
    expect(refused.stderr).toContain(root);

    const afresh = await serve(root, state, ['--new-state']);
    expect((await afresh.request('GET', '/locked.txt')).text).toBe('x');
    expect((await readdir(state)).some((n) => n.startsWith('abandoned-'))).toBe(true);
    await afresh.stop();
    // and from now on the pair belongs together again
    const again = await serve(root, state);
    await again.stop();
  });

  it('another root\'s state database is refused', async () => {
    const a = await freshPair('rootA');
    const b = await freshPair('rootB');
    await (await serve(a.root, a.state)).stop();
    await (await serve(b.root, b.state)).stop();
    const crossed = await keepdav(['serve', '--root', a.root, '--state', b.state, '--port', '0']);
    expect(crossed.code).toBe(1);
    expect(crossed.stderr).toMatch(/belongs to another root/);
    expect(crossed.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a corrupt state database is one line naming the file, no stack trace', async () => {
    const { root, state } = await freshPair('corrupt');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'keepdav.sqlite'), Buffer.alloc(8192, 'garbage! '));
    const r = await keepdav(['serve', '--root', root, '--state', state, '--port', '0']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(state, 'keepdav.sqlite'));
    expect(lines[0]).toMatch(/damaged/);
  });

  it('a state database its user cannot write (left by another user, or read-only) is one line naming the file at start, not a 500 on every write', async () => {
    if (!canRunAsNobody('the unwritable-state test')) return;
    const { root, state } = await freshPair('unwritable');
    await chmod(base, 0o755); // mkdtemp's 0700 would keep the user out
    // Made by the user nobody, as a service would; then its database made read-only.
    const first = await keepdavAs(nobody, ['serve', '--root', root, '--state', state, '--port', '0'], [root, state, join(base, 'unwritable')]);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: -1, stderr: expect.not.stringMatching(/keepdav: /) });
    await chmod(join(state, 'keepdav.sqlite'), 0o444);
    const r = await keepdavAs(nobody, ['serve', '--root', root, '--state', state, '--port', '0']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(state, 'keepdav.sqlite'));
    expect(lines[0]).toMatch(/cannot be written by this user/);
  });

  it('an ownership lock its user cannot write is refused, not shared: it could not keep a second server out', async () => {
    if (!canRunAsNobody('the unwritable-lock test')) return;
    const { root, state } = await freshPair('unwritable-lock');
    await chmod(base, 0o755);
    // A trial start as root left the lock file root's; the rest is given to the service user.
    expect((await keepdav(['serve', '--root', root, '--state', state, '--port', '0'])).code).toBe(-1);
    spawnSync('chown', ['-R', `${nobody}:${nobody}`, root, state]);
    spawnSync('chown', ['0:0', join(state, 'owner.lock')]);
    const r = await keepdavAs(nobody, ['serve', '--root', root, '--state', state, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot take .*owner\.lock: it cannot be written by this user/);
  });

  it('a state directory its user cannot write is one line naming it', async () => {
    if (!canRunAsNobody('the unwritable-state-directory test')) return;
    const { root, state } = await freshPair('unwritable-dir');
    await chmod(base, 0o755);
    await mkdir(state, { recursive: true }); // root's, 0755: nobody may not create files in it
    const r = await keepdavAs(nobody, ['serve', '--root', root, '--state', state, '--port', '0'], [root]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(state);
    expect(lines[0]).toMatch(/must be writable by the user keepdav runs as/);
  });

  it('a root its user cannot write (served --read-only) starts again after its first start, its state taken as its own', async () => {
    if (!canRunAsNobody('the read-only-root test')) return;
    const { root, state } = await freshPair('readonly-root');
    await chmod(base, 0o755);
    await mkdir(state, { recursive: true });
    spawnSync('chown', ['-R', `${nobody}:${nobody}`, state]); // the root stays root's: nobody cannot mark it
    for (let start = 0; start < 2; start++) {
      const r = await keepdavAs(nobody, ['serve', '--root', root, '--state', state, '--port', '0', '--read-only']);
      expect({ start, code: r.code }).toEqual({ start, code: -1 });
      if (start === 0) expect(r.stderr).toMatch(/cannot mark the root/);
    }
    // That state is the unmarked root's alone: beside another root it is refused as before.
    const other = join(base, 'readonly-root', 'other');
    await mkdir(other);
    spawnSync('chown', [`${nobody}:${nobody}`, other]);
    const refused = await keepdavAs(nobody, ['serve', '--root', other, '--state', state, '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/belongs to another root/);
    expect(existsSync(join(other, '.keepdav-state-id'))).toBe(false);
  });

  it('missing retained bytes: ?version= and a restore answer 410 version-content-missing, logged; the server lives on', async () => {
    const { root, state } = await freshPair('bytes');
    const s = await serve(root, state);
    expect((await s.request('PUT', '/v.txt', { body: 'old' })).status).toBe(201);
    expect((await s.request('PUT', '/v.txt', { body: 'new' })).status).toBe(204);
    const [version] = (JSON.parse((await s.request('GET', '/v.txt?versions')).text) as { versions: Array<{ id: string }> }).versions;
    const retained = join(state, 'retained', version.id.slice(0, 8), version.id);
    expect(existsSync(retained)).toBe(true);
    await unlink(retained);

    const get = await s.request('GET', `/v.txt?version=${version.id}`);
    expect(get.status).toBe(410);
    expect(codeOf(get)).toBe('version-content-missing');
    const post = await s.request('POST', `/v.txt?restore=${version.id}`);
    expect(post.status).toBe(410);
    expect(await readFile(join(root, 'v.txt'), 'utf8')).toBe('new');
    expect((await s.request('GET', '/v.txt')).text).toBe('new');
    expect(s.stderr()).toMatch(/"status":410,"code":"version-content-missing"/);
    await s.stop();
  });
});
