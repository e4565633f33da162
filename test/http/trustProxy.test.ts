/**
 * --trust-proxy: from a trusted peer, Forwarded / X-Forwarded-* name the client's address (stale
 * upload recognition, access log) and the public host a Destination may name; from anyone else
 * they are ignored. The test client connects from 127.0.0.1, trusted by one server and not by the other.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, send, type TestServer } from '../support/testServer';
import { codeOf } from '../support/conflictKit';
import { resolveConfig } from '../../src/config';
import { startServer } from '../../src/server';

let trusting: TestServer;
let distrusting: TestServer;
beforeAll(async () => {
  trusting = await startTestServer({ trustProxy: ['127.0.0.1'] });
  distrusting = await startTestServer({ trustProxy: ['10.0.0.0/8', 'fd00::/8'] });
});
afterAll(async () => {
  await trusting.close();
  await distrusting.close();
});

const NEW_MTIME = '1700000000';
const OLD_MTIME = '1600000000';

describe('Destination judged against the public host', () => {
  it('through a trusted proxy, a Destination naming the forwarded scheme and host is this server (Forwarded)', async () => {
    await trusting.request('PUT', '/a.txt', { body: 'A' });
    const res = await trusting.request('MOVE', '/a.txt', {
      headers: { Host: 'localhost', Forwarded: 'for=203.0.113.7;proto=https;host="dav.example:8443"', Destination: 'https://dav.example:8443/b.txt' },
    });
    expect(res.status).toBe(201);
    expect(existsSync(join(trusting.root, 'b.txt'))).toBe(true);
    expect(existsSync(join(trusting.root, 'a.txt'))).toBe(false);
  });

  it('X-Forwarded-Proto/-Host do the same, the default port counting as none', async () => {
    await trusting.request('PUT', '/c.txt', { body: 'C' });
    const res = await trusting.request('COPY', '/c.txt', {
      headers: { Host: 'backend', 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'dav.example', Destination: 'https://dav.example:443/d.txt' },
    });
    expect(res.status).toBe(201);
    expect(existsSync(join(trusting.root, 'd.txt'))).toBe(true);
  });

  it('another host is still another server, trusted proxy or not', async () => {
    await trusting.request('PUT', '/e.txt', { body: 'E' });
    const res = await trusting.request('MOVE', '/e.txt', { headers: { Host: 'localhost', Forwarded: 'for=203.0.113.7;proto=https;host=dav.example', Destination: 'https://other.example/e2.txt' } });
    expect(res.status).toBe(502);
    expect(codeOf(res)).toBe('destination-on-other-server');
    expect(existsSync(join(trusting.root, 'e.txt'))).toBe(true);
  });

  it('from an untrusted peer the forwarded host is ignored: 502, nothing moves', async () => {
    await distrusting.request('PUT', '/a.txt', { body: 'A' });
    const res = await distrusting.request('MOVE', '/a.txt', {
      headers: { Host: 'localhost', Forwarded: 'for=203.0.113.7;proto=https;host="dav.example:8443"', 'X-Forwarded-Host': 'dav.example:8443', Destination: 'https://dav.example:8443/b.txt' },
    });
    expect(res.status).toBe(502);
    expect(existsSync(join(distrusting.root, 'a.txt'))).toBe(true);
    expect(existsSync(join(distrusting.root, 'b.txt'))).toBe(false);
  });
});

describe('the client address recognises one client behind the proxy (stale-delete)', () => {
  async function refuseStaleUpload(t: TestServer, path: string, forwardedFor: string) {
    expect((await t.request('PUT', path, { body: 'newer', headers: { 'X-OC-Mtime': NEW_MTIME } })).status).toBe(201);
    const stale = await t.request('PUT', path, { body: 'older', headers: { 'X-OC-Mtime': OLD_MTIME, 'User-Agent': 'rclone/v1', Forwarded: `for=${forwardedFor}` } });
    expect(codeOf(stale)).toBe('stale-version');
  }
  const deleteAs = (t: TestServer, path: string, forwardedFor: string) => t.request('DELETE', path, { headers: { 'User-Agent': 'rclone/v1', Forwarded: `for=${forwardedFor}` } });

  it('through a trusted proxy, the same forwarded client is refused and another client is not', async () => {
    await refuseStaleUpload(trusting, '/s1.txt', '198.51.100.1');
    const same = await deleteAs(trusting, '/s1.txt', '198.51.100.1');
    expect(same.status).toBe(409);
    expect(codeOf(same)).toBe('stale-delete');
    await refuseStaleUpload(trusting, '/s2.txt', '198.51.100.1');
    expect((await deleteAs(trusting, '/s2.txt', '"[2001:db8::2]"')).status).toBe(204);
    expect(existsSync(join(trusting.root, 's2.txt'))).toBe(false);
  });

  it('from an untrusted peer, Forwarded is ignored: the socket peer is the client', async () => {
    await refuseStaleUpload(distrusting, '/s1.txt', '198.51.100.1');
    const res = await deleteAs(distrusting, '/s1.txt', '198.51.100.99');
    expect(codeOf(res)).toBe('stale-delete');
    expect(existsSync(join(distrusting.root, 's1.txt'))).toBe(true);
  });
});

it('the access log names the forwarded client only when the peer is trusted', async () => {
  const base = await mkdtemp(join(tmpdir(), 'keepdav-trust-log-'));
  const lines: string[] = [];
  const servers = [];
  try {
    for (const trustProxy of [['127.0.0.1'], []]) {
      // One root per server: a root belongs to one state (a second state beside it is refused).
      await mkdir(join(base, `root-${trustProxy.length}`));
      const server = await startServer(resolveConfig({ root: join(base, `root-${trustProxy.length}`), stateDir: join(base, `state-${trustProxy.length}`), port: 0, accessLog: true, trustProxy }), (l: string) => lines.push(l));
      servers.push(server);
      await send(server.port, undefined, 'GET', '/', { headers: { 'X-Forwarded-For': '192.0.2.44' } });
    }
    const access = lines.map((l) => JSON.parse(l) as { kind?: string; client?: string; method?: string; path?: string; status?: number }).filter((e) => e.kind === 'access');
    expect(access[0]).toMatchObject({ client: '192.0.2.44', method: 'GET', path: '/', status: 200 });
    expect(access[1].client).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(access[1]).toMatchObject({ method: 'GET', path: '/', status: 200 });
  } finally {
    for (const s of servers) await s.close(1000);
    await rm(base, { recursive: true, force: true });
  }
});
