/**
 * keepdav's own HTTPS (--tls-cert / --tls-key): a chain served from the certificate file, clear
 * start-up errors for a bad certificate or key, and reload (RunningServer.reload, SIGHUP in the CLI)
 * that serves a new certificate to new connections without dropping a request in flight.
 * Certificates are made with the real openssl at test time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { resolveConfig, ConfigError, type ServerConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { zeroCopySendForTests } from '../../src/http/zeroCopySend';
import { itWhenInstalled, programAvailable, removeDir, tempDir } from '../support/realClientKit';
import { makePki, makeServerCertificate, type Pki, type ServerCertificate } from '../support/tlsKit';
import { httpsRequest } from '../support/httpsProbe';

const withOpenssl = itWhenInstalled('openssl', programAvailable('openssl'), 'apt-get install -y openssl');
const REPO = join(__dirname, '..', '..');

let work: string;
let pki: Pki;
let first: ServerCertificate;
let second: ServerCertificate;
beforeAll(async () => {
  work = tempDir('https');
  if (!programAvailable('openssl')) return;
  pki = await makePki(work);
  first = await makeServerCertificate(pki, 'first');
  second = await makeServerCertificate(pki, 'second');
}, 60_000);
afterAll(() => removeDir(work));

let n = 0;
function configWith(certFile: string, keyFile: string): ServerConfig {
  n += 1;
  mkdirSync(join(work, `root${n}`));
  return resolveConfig({ root: join(work, `root${n}`), stateDir: join(work, `state${n}`), port: 0, tls: { certFile, keyFile } });
}

describe('a bad certificate or key is one clear error naming the file', () => {
  withOpenssl('missing, unreadable, not PEM, or not matching its key', async () => {
    const notPem = join(work, 'not.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    const cases: Array<[string, string, RegExp]> = [
      [join(work, 'missing.pem'), first.keyFile, /TLS certificate .*missing\.pem does not exist/],
      [work, first.keyFile, /TLS certificate .* is a directory/],
      [notPem, first.keyFile, /TLS certificate .*not\.pem is not a PEM certificate/],
      [first.certFile, notPem, /TLS key .*not\.pem is not a PEM private key/],
      [first.certFile, second.keyFile, /TLS certificate .*first\.pem does not match the key .*second\.key/],
    ];
    for (const [cert, key, message] of cases) {
      const attempt = startServer(configWith(cert, key), () => undefined);
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(message);
    }
  });

  withOpenssl('the command line prints one line naming the file and exits non-zero, no stack trace', async () => {
    mkdirSync(join(work, 'cli-root'));
    const child = spawn(process.execPath, [join(REPO, 'bin', 'keepdav.js'), 'serve', '--root', join(work, 'cli-root'), '--port', '0', '--tls-cert', first.certFile, '--tls-key', second.keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code).toBe(2);
    expect(stdout).not.toMatch(/listening/);
    expect(stderr.split('\n')[0]).toBe(`keepdav: the TLS certificate ${first.certFile} does not match the key ${second.keyFile}`);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe('serving HTTPS', () => {
  let server: RunningServer;
  let certFile: string;
  let keyFile: string;
  beforeAll(async () => {
    if (!pki) return;
    certFile = join(work, 'live.pem');
    keyFile = join(work, 'live.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    server = await startServer(configWith(certFile, keyFile), () => undefined);
  });
  afterAll(() => server?.close(1000));

  withOpenssl('answers over TLS with the chain from the certificate file; the URL says https', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const put = await httpsRequest(server.port, pki.caFile, 'PUT', '/hello.txt', 'over TLS');
    expect(put.status).toBe(201);
    expect(put.fingerprint256).toBe(first.fingerprint256);
    expect(readFileSync(join(server.services.config.root, 'hello.txt'), 'utf8')).toBe('over TLS');
    expect((await httpsRequest(server.port, pki.caFile, 'GET', '/hello.txt')).text).toBe('over TLS');
  });

  withOpenssl('sends a large file whole: TLS encrypts in the process, so it takes the buffers, not sendfile', async () => {
    const large = 'keepdav over TLS, line after line\n'.repeat(100_000); // 3.4 MB, past http/zeroCopySend.ts's threshold
    writeFileSync(join(server.services.config.root, 'large.txt'), large);
    const startedBefore = zeroCopySendForTests.started();
    const got = await httpsRequest(server.port, pki.caFile, 'GET', '/large.txt');
    expect(got.status).toBe(200);
    expect(got.text === large).toBe(true);
    expect(zeroCopySendForTests.started()).toBe(startedBefore);
  });

  withOpenssl('an early 409 reaches a client that sends its whole 32 MiB body first: the TLS connection lingers (RFC 9112 §9.6)', async () => {
    // allowHalfOpen (passed on to the TLSSocket, not in ConnectionOptions' type): writing goes on after the server's FIN, as neon's does.
    const options: ConnectionOptions & { allowHalfOpen: boolean } = { port: server.port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(pki.caFile), allowHalfOpen: true };
    const socket = tlsConnect(options);
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const received: Buffer[] = [];
    let failure: Error | undefined;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (err) => (failure = err));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const write = (chunk: Buffer | string) => new Promise<void>((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve())));
    await write(`PUT /missing/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${32 << 20}\r\n\r\n`);
    for (let i = 0; i < 32; i++) await write(Buffer.alloc(1 << 20, 0x61));
    await new Promise((r) => setTimeout(r, 200));
    socket.end();
    await closed;
    expect(failure).toBeUndefined();
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 409 /);
  });

  withOpenssl('reload serves the new certificate to new connections; a request in flight finishes; a bad reload keeps the old', async () => {
    // A slow upload: headers sent and acknowledged (100-continue), the body not yet.
    const inFlight = new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port: server.port, method: 'PUT', path: '/slow.txt', ca: readFileSync(pki.caFile), agent: false, headers: { Expect: '100-continue', 'Content-Length': 10 } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256 }));
      });
      req.on('error', reject);
      req.on('continue', async () => {
        try {
          req.write('first');
          copyFileSync(second.certFile, certFile);
          copyFileSync(second.keyFile, keyFile);
          server.reload();
          expect((await httpsRequest(server.port, pki.caFile, 'GET', '/')).fingerprint256).toBe(second.fingerprint256);
          req.end('-half');
        } catch (err) {
          req.destroy(err as Error);
        }
      });
    });
    const done = await inFlight;
    expect(done).toEqual({ status: 201, fingerprint: first.fingerprint256 });
    expect(readFileSync(join(server.services.config.root, 'slow.txt'), 'utf8')).toBe('first-half');

    // A key that does not match: refused, and the certificate already served stays.
    copyFileSync(first.keyFile, keyFile);
    expect(() => server.reload()).toThrow(/does not match the key/);
    expect((await httpsRequest(server.port, pki.caFile, 'GET', '/')).fingerprint256).toBe(second.fingerprint256);
  });
});

/** `keepdav serve` over HTTPS as a child process, on its own copy of the first certificate and key. */
async function serveTlsChild(name: string): Promise<{ child: ChildProcess; port: number; root: string; certFile: string; keyFile: string; stderrSays(pattern: RegExp): Promise<void>; stop(): Promise<void> }> {
  const certFile = join(work, `${name}.pem`);
  const keyFile = join(work, `${name}.key`);
  copyFileSync(first.certFile, certFile);
  copyFileSync(first.keyFile, keyFile);
  const root = join(work, `${name}-root`);
  mkdirSync(root);
  const child = spawn(process.execPath, [join(REPO, 'bin', 'keepdav.js'), 'serve', '--root', root, '--port', '0', '--tls-cert', certFile, '--tls-key', keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('close', r));
  };
  /** Resolves once stderr (from now on or already) matches `pattern`. */
  const stderrSays = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => pattern.test(stderr) && (child.stderr.off('data', check), resolve());
      child.stderr.on('data', check);
      check();
    });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /listening on https:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    return { child, port, root, certFile, keyFile, stderrSays, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe('SIGHUP in the command line', () => {
  withOpenssl('reloads the certificate files, and a failed reload says so and keeps serving the old one', async () => {
    const { child, port, certFile, keyFile, stderrSays, stop } = await serveTlsChild('hup');
    try {
      expect((await httpsRequest(port, pki.caFile, 'GET', '/')).fingerprint256).toBe(first.fingerprint256);
      copyFileSync(second.certFile, certFile);
      copyFileSync(second.keyFile, keyFile);
      const reloaded = stderrSays(/SIGHUP, settings reloaded/);
      child.kill('SIGHUP');
      await reloaded;
      expect((await httpsRequest(port, pki.caFile, 'GET', '/')).fingerprint256).toBe(second.fingerprint256);
      writeFileSync(keyFile, 'garbage\n');
      const failed = stderrSays(/SIGHUP, reload failed, keeping the old settings: the TLS key .*hup\.key is not a PEM private key/);
      child.kill('SIGHUP');
      await failed;
      expect((await httpsRequest(port, pki.caFile, 'GET', '/')).fingerprint256).toBe(second.fingerprint256);
    } finally {
      await stop();
    }
  }, 60_000);
});

describe("the CLI's restore beside an HTTPS server", () => {
  withOpenssl('reaches it on 127.0.0.1 trusting exactly the certificate it recorded (also after SIGHUP changed it), and refuses one it did not record', async () => {
    const { child, port, root, certFile, keyFile, stderrSays, stop } = await serveTlsChild('restore');
    const restore = (id: string) => spawnSync(process.execPath, [join(REPO, 'bin', 'keepdav.js'), 'restore', '/doc.txt', '--version', id, '--root', root], { encoding: 'utf8' });
    try {
      expect((await httpsRequest(port, pki.caFile, 'PUT', '/doc.txt', 'v1')).status).toBe(201);
      expect((await httpsRequest(port, pki.caFile, 'PUT', '/doc.txt', 'v2')).status).toBe(204);
      const [version] = (JSON.parse((await httpsRequest(port, pki.caFile, 'GET', '/doc.txt?versions')).text) as { versions: Array<{ id: string }> }).versions;
      copyFileSync(second.certFile, certFile);
      copyFileSync(second.keyFile, keyFile);
      const reloaded = stderrSays(/SIGHUP, settings reloaded/);
      child.kill('SIGHUP');
      await reloaded;
      const done = restore(version.id);
      expect({ status: done.status, stderr: done.stderr }).toEqual({ status: 0, stderr: '' });
      expect(done.stdout).toMatch(/through the running server at https:/);
      expect((await httpsRequest(port, pki.caFile, 'GET', '/doc.txt')).text).toBe('v1');

      // A certificate other than the recorded one is not trusted: nothing is sent.
      const ownerFile = join(`${root}.keepdav-state`, 'owner.json');
      const owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as { certificateSha256: string };
      expect(owner.certificateSha256).toBe(second.fingerprint256);
      writeFileSync(ownerFile, JSON.stringify({ ...owner, certificateSha256: first.fingerprint256 }));
      const refused = restore(version.id);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/other than the one it recorded/);

      // A stopped server (Ctrl-Z) accepts the connection and never shakes hands: the CLI gives up in one line.
      writeFileSync(ownerFile, JSON.stringify(owner));
      process.kill(child.pid!, 'SIGSTOP');
      try {
        const started = Date.now();
        const stalled = restore(version.id);
        expect(stalled.status).toBe(1);
        expect(stalled.stderr).toMatch(/cannot be reached \(no TLS handshake within 10 s\)/);
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        process.kill(child.pid!, 'SIGCONT');
      }
    } finally {
      await stop();
    }
  }, 60_000);
});
