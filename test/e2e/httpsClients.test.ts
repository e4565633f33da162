/**
 * Real clients against keepdav's own HTTPS (--tls-cert / --tls-key), trusting a throwaway CA made
 * with openssl (the server sends leaf + intermediate, clients know only the root):
 * curl (--cacert), rclone (--ca-cert), davfs2 (trust_ca_cert in davfs2.conf) and cadaver. cadaver
 * (neon on GnuTLS in Debian) trusts only the system store and has no CA option (SSL_CERT_FILE does
 * not reach GnuTLS): it shows the certificate and asks, so the test answers "y" on a terminal
 * after checking the issuer it shows.
 *
 * The server has a users file (htpasswd, bcrypt) and every client signs in with Basic auth as its
 * own user: curl with -u, rclone with --webdav-user/--webdav-pass (obscured), cadaver from a .netrc
 * in the HOME the test gives it, davfs2 from the `secrets` file its davfs2.conf names. Each test
 * proves authentication was required (anonymous requests are 401) and used (the access log shows
 * the client's requests under its user).
 */
import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { htpasswdLine } from '../support/authKit';
import { cleanEnv, itWhenInstalled, programAvailable, removeDir, run, tempDir, type RunResult } from '../support/realClientKit';
import { makePki, makeServerCertificate, type Pki } from '../support/tlsKit';

const hasOpenssl = programAvailable('openssl');
const curlIt = itWhenInstalled('curl', hasOpenssl && programAvailable('curl'), 'apt-get install -y curl openssl');
const rcloneIt = itWhenInstalled('rclone', hasOpenssl && programAvailable('rclone'), 'apt-get install -y rclone openssl');
const cadaverIt = itWhenInstalled('cadaver', hasOpenssl && programAvailable('cadaver') && programAvailable('script'), 'apt-get install -y cadaver openssl');

let work: string;
let pki: Pki;
let server: RunningServer;
let root: string;
/** The URL clients use: the name in the certificate. */
let url: string;
/** The server's log lines (JSON): the access log names the signed-in user of every request. */
const logs: string[] = [];

/** One user per client, so the access log tells which client signed in as whom. */
const USERS = {
  curl: { user: 'curl-user', password: 'curl secret 1' },
  rclone: { user: 'rclone-user', password: 'rclone secret 2' },
  cadaver: { user: 'cadaver-user', password: 'cadaver-secret-3' },
  davfs2: { user: 'davfs2-user', password: 'davfs2 secret 4' },
} as const;

interface Access {
  user?: string;
  method: string;
  path: string;
  status: number;
  userAgent?: string;
}
function accessLog(): Access[] {
  return logs.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Access & { kind?: string };
      return entry.kind === 'access' ? [entry] : [];
    } catch {
      return [];
    }
  });
}
/** The access-log entries of requests made as `user`. */
const requestsBy = (user: string) => accessLog().filter((e) => e.user === user);

/** A request without credentials (trusting the test CA): what any client that does not sign in gets. */
function anonymous(method: string, path: string): Promise<{ status: number; wwwAuthenticate?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path.replace(/^\//, '')}`, { method, ca: readFileSync(pki.caFile), agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** No password (nor anything derived from it in the clear) reaches the log. */
function expectNoPasswordLogged(password: string): void {
  expect(logs.join('\n')).not.toContain(password);
}

beforeAll(async () => {
  work = tempDir('https-clients');
  chmodSync(work, 0o755); // davfs2 drops root for its own user, which must read the CA file
  if (!hasOpenssl) return;
  pki = await makePki(work);
  const cert = await makeServerCertificate(pki, 'server');
  root = join(work, 'root');
  mkdirSync(root);
  const usersFile = join(work, 'htpasswd');
  writeFileSync(usersFile, Object.values(USERS).map(({ user, password }) => htpasswdLine(user, password)).join('\n') + '\n');
  server = await startServer(resolveConfig({ root, stateDir: join(work, 'state'), port: 0, tls: cert, usersFile }), (line) => logs.push(line));
  url = `https://localhost:${server.port}/`;
}, 60_000);
afterAll(async () => {
  await server?.close(1000);
  removeDir(work);
});

function expectOk(r: RunResult): void {
  expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
}

curlIt('curl --cacert -u: PUT, PROPFIND, MOVE with an https Destination, GET; without credentials 401', async () => {
  const { user, password } = USERS.curl;
  // Without credentials (and with a wrong password) the server challenges and writes nothing.
  const challenged = (...args: string[]) => run('curl', ['-sS', '--cacert', pki.caFile, '-o', '/dev/null', '-D', '-', '-T', '-', ...args, `${url}anonymous.txt`], { env: cleanEnv(), input: 'nobody' });
  for (const refused of [await challenged(), await challenged('-u', `${user}:wrong password`)]) {
    expectOk(refused);
    expect(refused.stdout).toMatch(/^HTTP\/1\.1 401 /m);
    expect(refused.stdout).toMatch(/^www-authenticate: Basic realm="keepdav", charset="UTF-8"\r?$/im);
  }
  expect(existsSync(join(root, 'anonymous.txt'))).toBe(false);

  const curl = (...args: string[]) => run('curl', ['-sS', '--fail-with-body', '--cacert', pki.caFile, '-u', `${user}:${password}`, ...args], { env: cleanEnv() });
  writeFileSync(join(work, 'curl.txt'), 'sent by curl');
  expectOk(await curl('-T', join(work, 'curl.txt'), `${url}curl.txt`));
  const listing = await curl('-X', 'PROPFIND', '-H', 'Depth: 1', url);
  expectOk(listing);
  expect(listing.stdout).toContain('/curl.txt</');
  expectOk(await curl('-X', 'MOVE', '-H', `Destination: ${url}moved.txt`, `${url}curl.txt`));
  const got = await curl(`${url}moved.txt`);
  expect(got.stdout).toBe('sent by curl');
  expect(existsSync(join(root, 'curl.txt'))).toBe(false);
  // Without the CA, curl refuses the certificate: the trust really comes from --cacert.
  const untrusted = await run('curl', ['-sS', `${url}moved.txt`], { env: cleanEnv({ SSL_CERT_FILE: '/nonexistent' }) });
  expect(untrusted.status).not.toBe(0);
  // The server saw curl's requests as curl-user.
  const signedIn = requestsBy(user).filter((e) => e.userAgent?.startsWith('curl/')).map((e) => `${e.method} ${e.path} ${e.status}`);
  expect(signedIn).toEqual(['PUT /curl.txt 201', 'PROPFIND / 207', 'MOVE /curl.txt 201', 'GET /moved.txt 200']);
  expect(await anonymous('GET', '/moved.txt')).toEqual({ status: 401, wwwAuthenticate: 'Basic realm="keepdav", charset="UTF-8"' });
  expectNoPasswordLogged(password);
});

rcloneIt('rclone --ca-cert --webdav-user/--webdav-pass: copy a tree up and check it; without credentials 401', async () => {
  const { user, password } = USERS.rclone;
  const home = join(work, 'rclone-home');
  const local = join(work, 'rclone-local');
  mkdirSync(join(local, 'sub'), { recursive: true });
  writeFileSync(join(local, 'one.txt'), 'one');
  writeFileSync(join(local, 'sub', 'two.bin'), Buffer.alloc(200_000, 7));
  const remote = `:webdav,url='${url}',vendor=owncloud:rclone`;
  const rclone = (...args: string[]) => run('rclone', ['--config', '/dev/null', '--ca-cert', pki.caFile, ...args], { env: cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache') }), timeoutMs: 120_000 });
  // Without credentials, or with a wrong password, rclone is refused.
  const obscure = async (p: string) => {
    const r = await rclone('obscure', p);
    expectOk(r);
    return r.stdout.trim();
  };
  const once = ['--low-level-retries', '1', '--retries', '1'];
  for (const refused of [await rclone(...once, 'lsf', remote), await rclone(...once, '--webdav-user', user, '--webdav-pass', await obscure('wrong password'), 'lsf', remote)]) {
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/401|Unauthorized/);
  }
  const signIn = ['--webdav-user', user, '--webdav-pass', await obscure(password)];
  expectOk(await rclone(...signIn, 'copy', local, remote));
  expectOk(await rclone(...signIn, 'check', local, remote));
  expect(readFileSync(join(root, 'rclone', 'one.txt'), 'utf8')).toBe('one');
  expect(readFileSync(join(root, 'rclone', 'sub', 'two.bin')).equals(Buffer.alloc(200_000, 7))).toBe(true);
  // The uploads were made as rclone-user, and none of its signed-in requests was refused.
  const mine = requestsBy(user).filter((e) => e.userAgent?.startsWith('rclone/'));
  expect(mine.filter((e) => e.method === 'PUT' && e.status === 201).map((e) => e.path).sort()).toEqual(['/rclone/one.txt', '/rclone/sub/two.bin']);
  expect(mine.filter((e) => e.status === 401)).toEqual([]);
  expect((await anonymous('GET', '/rclone/one.txt')).status).toBe(401);
  expectNoPasswordLogged(password);
}, 150_000);

/**
 * Drives cadaver on a terminal (script(1)): answers the certificate question, then one command per
 * prompt. Credentials must come from $HOME/.netrc: a username prompt ends the session as a failure.
 */
function cadaverSession(commands: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `cadaver ${url}`, '/dev/null'], { cwd, env: cleanEnv({ HOME: cwd, TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let seen = 0;
    const queue = [...commands, 'quit'];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
      const fresh = output.slice(seen);
      if (/\(y\/n\)/.test(fresh)) {
        seen = output.length;
        child.stdin.write('y\n');
      } else if (/Username: ?$/.test(fresh)) {
        child.kill('SIGKILL');
      } else if (/dav:\/[^>]*> ?$/.test(fresh.replace(/\x1b\[[?0-9;]*[a-zA-Z]/g, '')) && queue.length > 0) {
        seen = output.length;
        child.stdin.write(queue.shift() + '\n');
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      queue.length === 0 ? resolve(output.replace(/\r/g, '')) : reject(new Error(`cadaver ended early: ${output}`));
    });
  });
}

cadaverIt('cadaver over HTTPS, signed in from .netrc: accepts the certificate it shows (issued by our intermediate), then put, mkcol, move, get', async () => {
  const { user, password } = USERS.cadaver;
  const dir = join(work, 'cadaver');
  mkdirSync(dir);
  writeFileSync(join(dir, '.netrc'), `machine localhost\nlogin ${user}\npassword ${password}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'up.txt'), 'sent by cadaver');
  const output = await cadaverSession(['put up.txt', 'mkcol box', 'move up.txt box/up.txt', 'get box/up.txt back.txt', 'ls box'], dir);
  expect(output).toContain('Issued by: keepdav test intermediate CA');
  expect(output).not.toMatch(/failed/i);
  expect(readFileSync(join(root, 'box', 'up.txt'), 'utf8')).toBe('sent by cadaver');
  expect(readFileSync(join(dir, 'back.txt'), 'utf8')).toBe('sent by cadaver');
  // The server challenged cadaver (neon sends no credentials until asked), then saw it as cadaver-user.
  const cadavers = accessLog().filter((e) => /cadaver|neon/i.test(e.userAgent ?? ''));
  expect(cadavers.some((e) => e.status === 401 && e.user === undefined)).toBe(true);
  const signedIn = requestsBy(user).map((e) => `${e.method} ${e.path} ${e.status}`);
  expect(signedIn).toEqual(expect.arrayContaining(['PUT /up.txt 201', 'MKCOL /box/ 201', 'MOVE /up.txt 201', 'GET /box/up.txt 200']));
  expect((await anonymous('GET', '/box/up.txt')).status).toBe(401);
  expectNoPasswordLogged(password);
}, 90_000);

describe('davfs2 over HTTPS (trust_ca_cert, credentials from its secrets file)', () => {
  const why = (() => {
    if (process.platform !== 'linux') return 'not Linux';
    if (!hasOpenssl || !programAvailable('mount.davfs')) return 'mount.davfs or openssl is not installed (apt-get install -y davfs2 openssl)';
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
    if (!existsSync('/dev/fuse')) return '/dev/fuse is missing';
    return undefined;
  })();
  const mounted = (mnt: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === mnt);

  it('mounts with the CA trusted, signs in from the secrets file, writes a file that reaches the server', async () => {
    if (why) return console.error(`davfs2 over HTTPS skipped: ${why}`);
    const { user, password } = USERS.davfs2;
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    // davfs2 insists the secrets file is its user's (root's) and readable by nobody else.
    const secrets = join(work, 'davfs2.secrets');
    writeFileSync(secrets, `${url} ${user} "${password}"\n`, { mode: 0o600 });
    const conf = join(work, 'davfs2.conf');
    writeFileSync(conf, ['ask_auth 0', 'use_locks 1', 'delay_upload 0', `trust_ca_cert ${pki.caFile}`, `secrets ${secrets}`, ''].join('\n'));
    // ask_auth 0: nothing is asked on stdin, the credentials can only come from the secrets file.
    const m = await run('mount.davfs', [url, mnt, '-o', `conf=${conf}`], { input: '', timeoutMs: 30_000 });
    if (m.status !== 0 || !mounted(mnt)) {
      // Mounting itself may be impossible in a sandbox; a certificate or sign-in problem is not excused.
      expect(m.output).not.toMatch(/certificate|ssl|tls|401|unauthori[sz]ed|authenticat|password|secrets/i);
      return console.error(`davfs2 over HTTPS skipped: cannot mount here: ${m.output.trim().slice(-300)}`);
    }
    try {
      const { writeFile, readFile } = await import('node:fs/promises');
      await writeFile(join(mnt, 'via-davfs2.txt'), 'written through an HTTPS mount\n');
      expect(await readFile(join(mnt, 'via-davfs2.txt'), 'utf8')).toBe('written through an HTTPS mount\n');
    } finally {
      const u = await run('umount', [mnt], { timeoutMs: 90_000 });
      if (u.status !== 0) await run('umount', ['-l', mnt], { timeoutMs: 10_000 });
      const mangled = mnt.slice(1).replace(/\//g, '-');
      for (const name of existsSync('/var/cache/davfs2') ? readdirSync('/var/cache/davfs2') : []) if (name.includes(`+${mangled}+`)) removeDir(join('/var/cache/davfs2', name));
    }
    expect(readFileSync(join(root, 'via-davfs2.txt'), 'utf8')).toBe('written through an HTTPS mount\n');
    // The server challenged davfs2 (neon sends no credentials until asked) and took its upload from davfs2-user.
    expect(accessLog().some((e) => /davfs2/i.test(e.userAgent ?? '') && e.status === 401 && e.user === undefined)).toBe(true);
    expect(requestsBy(user).some((e) => e.method === 'PUT' && e.path === '/via-davfs2.txt' && e.status < 300)).toBe(true);
    expect((await anonymous('GET', '/via-davfs2.txt')).status).toBe(401);
    expectNoPasswordLogged(password);
  }, 180_000);
});
