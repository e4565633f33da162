/**
 * Real clients against keepdav's own HTTPS (--tls-cert / --tls-key), trusting a throwaway CA made
 * with openssl (the server sends leaf + intermediate, clients know only the root):
 * curl (--cacert), rclone (--ca-cert), davfs2 (trust_ca_cert in davfs2.conf) and cadaver. cadaver
 * (neon on GnuTLS in Debian) trusts only the system store and has no CA option (SSL_CERT_FILE does
 * not reach GnuTLS): it shows the certificate and asks, so the test answers "y" on a terminal
 * after checking the issuer it shows.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
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
beforeAll(async () => {
  work = tempDir('https-clients');
  chmodSync(work, 0o755); // davfs2 drops root for its own user, which must read the CA file
  if (!hasOpenssl) return;
  pki = await makePki(work);
  const cert = await makeServerCertificate(pki, 'server');
  root = join(work, 'root');
  mkdirSync(root);
  server = await startServer(resolveConfig({ root, stateDir: join(work, 'state'), port: 0, tls: cert }), () => undefined);
  url = `https://localhost:${server.port}/`;
}, 60_000);
afterAll(async () => {
  await server?.close(1000);
  removeDir(work);
});

function expectOk(r: RunResult): void {
  expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
}

curlIt('curl --cacert: PUT, PROPFIND, MOVE with an https Destination, GET', async () => {
  const curl = (...args: string[]) => run('curl', ['-sS', '--fail-with-body', '--cacert', pki.caFile, ...args], { env: cleanEnv() });
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
});

rcloneIt('rclone --ca-cert: copy a tree up and check it', async () => {
  const home = join(work, 'rclone-home');
  const local = join(work, 'rclone-local');
  mkdirSync(join(local, 'sub'), { recursive: true });
  writeFileSync(join(local, 'one.txt'), 'one');
  writeFileSync(join(local, 'sub', 'two.bin'), Buffer.alloc(200_000, 7));
  const remote = `:webdav,url='${url}',vendor=owncloud:rclone`;
  const rclone = (...args: string[]) => run('rclone', ['--config', '/dev/null', '--ca-cert', pki.caFile, ...args], { env: cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache') }), timeoutMs: 120_000 });
  expectOk(await rclone('copy', local, remote));
  expectOk(await rclone('check', local, remote));
  expect(readFileSync(join(root, 'rclone', 'one.txt'), 'utf8')).toBe('one');
  expect(readFileSync(join(root, 'rclone', 'sub', 'two.bin')).equals(Buffer.alloc(200_000, 7))).toBe(true);
}, 150_000);

/** Drives cadaver on a terminal (script(1)): answers the certificate question, then one command per prompt. */
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

cadaverIt('cadaver over HTTPS: accepts the certificate it shows (issued by our intermediate), then put, mkcol, move, get', async () => {
  const dir = join(work, 'cadaver');
  mkdirSync(dir);
  writeFileSync(join(dir, 'up.txt'), 'sent by cadaver');
  const output = await cadaverSession(['put up.txt', 'mkcol box', 'move up.txt box/up.txt', 'get box/up.txt back.txt', 'ls box'], dir);
  expect(output).toContain('Issued by: keepdav test intermediate CA');
  expect(output).not.toMatch(/failed/i);
  expect(readFileSync(join(root, 'box', 'up.txt'), 'utf8')).toBe('sent by cadaver');
  expect(readFileSync(join(dir, 'back.txt'), 'utf8')).toBe('sent by cadaver');
}, 90_000);

describe('davfs2 over HTTPS (trust_ca_cert)', () => {
  const why = (() => {
    if (process.platform !== 'linux') return 'not Linux';
    if (!hasOpenssl || !programAvailable('mount.davfs')) return 'mount.davfs or openssl is not installed (apt-get install -y davfs2 openssl)';
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
    if (!existsSync('/dev/fuse')) return '/dev/fuse is missing';
    return undefined;
  })();
  const mounted = (mnt: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === mnt);

  it('mounts with the CA trusted, writes a file that reaches the server', async () => {
    if (why) return console.error(`davfs2 over HTTPS skipped: ${why}`);
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    const conf = join(work, 'davfs2.conf');
    writeFileSync(conf, ['ask_auth 0', 'use_locks 1', 'delay_upload 0', `trust_ca_cert ${pki.caFile}`, ''].join('\n'));
    const m = await run('mount.davfs', [url, mnt, '-o', `conf=${conf}`], { input: '\n\n', timeoutMs: 30_000 });
    if (m.status !== 0 || !mounted(mnt)) {
      // Mounting itself may be impossible in a sandbox; a certificate problem is not excused.
      expect(m.output).not.toMatch(/certificate|ssl|tls/i);
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
  }, 180_000);
});
