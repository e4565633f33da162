/**
 * `--admin-users FILE`: the admin listener's metrics and tasks need an admin's Basic login, while
 * /healthz and /readyz stay open for health checks; with admin users the listener may listen on
 * any address, without them only on loopback.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, ConfigError } from '../../src/config';
import { startTestServer, type TestServer } from '../support/testServer';
import { admin } from '../support/adminKit';
import { htpasswdLine } from '../support/authKit';

const basic = (user: string, password: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64') });

let dir: string;
let usersFile: string;
let t: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keepdav-admin-users-'));
  usersFile = join(dir, 'admins');
  await writeFile(usersFile, htpasswdLine('ops', 'night shift') + '\n');
  t = await startTestServer({ adminListen: '127.0.0.1:0', adminUsersFile: usersFile });
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

it('keeps /healthz and /readyz open', async () => {
  expect((await admin(t.server.adminUrl!, 'GET', '/healthz')).status).toBe(200);
  expect((await admin(t.server.adminUrl!, 'GET', '/readyz')).status).toBe(200);
});

it('answers /metrics and /tasks with 401 and a Basic challenge without an admin login', async () => {
  for (const [method, path] of [['GET', '/metrics'], ['GET', '/tasks'], ['POST', '/tasks']] as const) {
    const anonymous = await admin(t.server.adminUrl!, method, path, method === 'POST' ? { task: 'prune' } : undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="keepdav admin", charset="UTF-8"');
    expect(anonymous.json()).toMatchObject({ code: 'Unauthorized' });
  }
  expect((await admin(t.server.adminUrl!, 'GET', '/metrics', undefined, basic('ops', 'day shift'))).status).toBe(401);
  expect((await admin(t.server.adminUrl!, 'GET', '/metrics', undefined, basic('nobody', 'night shift'))).status).toBe(401);
});

it('serves an admin: metrics scraped, a task started and followed', async () => {
  const metrics = await admin(t.server.adminUrl!, 'GET', '/metrics', undefined, basic('ops', 'night shift'));
  expect(metrics.status).toBe(200);
  expect(metrics.text).toMatch(/^# HELP /m);
  const started = await admin(t.server.adminUrl!, 'POST', '/tasks', { task: 'prune' }, basic('ops', 'night shift'));
  expect(started.status).toBe(202);
  const id = started.json().id as string;
  // Following the task needs the login too.
  expect((await admin(t.server.adminUrl!, 'GET', `/tasks/${id}`)).status).toBe(401);
  let record = (await admin(t.server.adminUrl!, 'GET', `/tasks/${id}`, undefined, basic('ops', 'night shift'))).json();
  for (let i = 0; record.state === 'running' && i < 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    record = (await admin(t.server.adminUrl!, 'GET', `/tasks/${id}`, undefined, basic('ops', 'night shift'))).json();
  }
  expect(record).toMatchObject({ id, task: 'prune', state: 'succeeded' });
});

it('lets the admin listener leave loopback only with admin users', () => {
  const base = { root: dir, stateDir: join(dir, 'state'), adminListen: '0.0.0.0:9090' };
  expect(() => resolveConfig(base)).toThrow(ConfigError);
  expect(() => resolveConfig(base)).toThrow(/only a loopback address .* unless --admin-users/);
  expect(resolveConfig({ ...base, adminUsersFile: usersFile }).adminListen).toBe('0.0.0.0:9090');
});

it('refuses to start with an admin users file that does not exist, naming it', async () => {
  await expect(startTestServer({ adminListen: '127.0.0.1:0', adminUsersFile: join(dir, 'missing') })).rejects.toThrow(/--admin-users .*missing: no such file/);
});
