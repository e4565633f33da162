/**
 * The safe default and the users file as a user meets them on the command line: keepdav as a child
 * process refuses to serve a public address with nobody to sign in, refuses a bad users file with
 * one line naming the file and line, warns about weak hashes, and serves signed-in users.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startChildServer } from '../support/childServer';
import { basic, htpasswdLine, htpasswdAvailable } from '../support/authKit';
import { KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

const BIN = join(resolve(__dirname, '..', '..'), 'bin', 'keepdav.js');
jest.setTimeout(150_000);

function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

describe('keepdav serve with users', () => {
  let base: string;
  let root: string;
  let state: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'keepdav-authcli-'));
    root = join(base, 'root');
    state = join(base, 'state');
    await mkdir(root);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('refuses to start on a public address without users or --anonymous, saying how to fix it in one line', async () => {
    const r = await runToExit(['serve', '--root', root, '--state', state, '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/listening/);
    const first = r.stderr.split('\n')[0];
    expect(first).toMatch(/0\.0\.0\.0/);
    expect(first).toMatch(/htpasswd -cB FILE alice/);
    expect(first).toMatch(/--users FILE/);
    expect(first).toMatch(/--anonymous read/);
  });

  it('refuses a users file with an unknown hash format in one line naming the file and the line, without the hash', async () => {
    const file = join(base, 'bad-htpasswd');
    await writeFile(file, `# made by hand\n${htpasswdLine('alice', 'pw', 'bcryptjs')}\nbob:{PLAIN}secret-value\n`);
    const r = await runToExit(['serve', '--root', root, '--state', state, '--port', '0', '--users', file]);
    expect(r.code).not.toBe(0);
    const first = r.stderr.split('\n')[0];
    expect(first).toContain(`users file ${file}, line 3`);
    expect(first).toMatch(/bob/);
    expect(r.stderr).not.toContain('secret-value');
    const missing = await runToExit(['serve', '--root', root, '--state', state, '--port', '0', '--users', join(base, 'nope')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.split('\n')[0]).toContain(`users file ${join(base, 'nope')} cannot be read: ENOENT`);
  });

  it('refuses a users file with two names the server takes for one (case on --case-insensitive, Unicode normalization), naming both', async () => {
    const file = join(base, 'twins-htpasswd');
    await writeFile(file, `${htpasswdLine('alice', 'pw', 'bcryptjs')}\n${htpasswdLine('Alice', 'pw2', 'bcryptjs')}\n`);
    const r = await runToExit(['serve', '--root', root, '--state', state, '--port', '0', '--users', file, '--case-insensitive']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n')[0]).toContain(`users file ${file}: "alice" and "Alice" are one name to this server`);
    const nfd = join(base, 'nfd-htpasswd');
    await writeFile(nfd, `${htpasswdLine('zo\u00eb', 'pw', 'bcryptjs')}\n${htpasswdLine('zoe\u0308', 'pw2', 'bcryptjs')}\n`);
    const n = await runToExit(['serve', '--root', root, '--state', state, '--port', '0', '--users', nfd]);
    expect(n.code).not.toBe(0);
    expect(n.stderr.split('\n')[0]).toContain(`users file ${nfd}, line 2: user "zo\u00eb" appears twice`);
  });

  it('refuses --anonymous with a value other than none, read or write', async () => {
    const r = await runToExit(['serve', '--root', root, '--state', state, '--port', '0', '--anonymous', 'everyone']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--anonymous takes none, read or write/);
  });

  it('serves signed-in users from --users, and names the users with weak hashes at start', async () => {
    const file = join(base, 'htpasswd');
    const weak = htpasswdAvailable ? htpasswdLine('dan', 'dan pw', 'htpasswd -m') : 'dan:{SHA}' + createHash('sha1').update('dan pw').digest('base64');
    await writeFile(file, [htpasswdLine('alice', 'alice pw'), weak].join('\n') + '\n');
    await writeFile(join(root, 'f.txt'), 'content');
    const server = await startChildServer(root, state, ['--users', file], 90_000);
    try {
      expect((await server.request('GET', '/f.txt')).status).toBe(401);
      expect((await server.request('GET', '/f.txt', { headers: basic('alice', 'alice pw') })).text).toBe('content');
      expect((await server.request('GET', '/f.txt', { headers: basic('dan', 'dan pw') })).status).toBe(200);
      expect(server.stderr()).toMatch(/weak password hashes .* for dan;/);
      expect(server.stderr()).not.toMatch(/alice pw|dan pw|\$2y\$|\$apr1\$/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
