/**
 * The admin listener's metrics (Prometheus text via prom-client) counted after known requests,
 * /healthz, and /readyz turning 503 with a reason when the state disk is full (a small tmpfs) or
 * the root is read-only (a read-only bind mount). Mounting needs root and CAP_SYS_ADMIN: without
 * them those two tests are skipped, loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { admin, sample } from '../support/adminKit';
import { EARLY_FLUSH_BYTES } from '../../src/storage/atomicWrite';
import { DIRECTORY_WATCH_BINARY } from '../../src/storage/directoryWatch';
import { itWhenInstalled } from '../support/realClientKit';

const itWhenWatched = itWhenInstalled('the native directory watch helper (build/Release/directory_watch.node)', existsSync(DIRECTORY_WATCH_BINARY), 'npm install builds it: needs python3, make and a C compiler');

const LOCK_BODY = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';

/** Whether this machine lets the tests mount (a trial tmpfs mount and unmount). */
function canMount(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'keepdav-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}
const mountable = canMount();
if (!mountable) console.error('mount is NOT permitted here (needs root with CAP_SYS_ADMIN): the readiness tests on a full or read-only disk are skipped');
const itWhenMountable = mountable ? it : it.skip;

function mount(...args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
}

describe('metrics and health', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ adminListen: '127.0.0.1:0' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('/healthz answers alive, /readyz ready with every check ok', async () => {
    const health = await admin(t.server.adminUrl!, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'alive' });
    const ready = await admin(t.server.adminUrl!, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { stateStore: 'ok', stateDir: 'ok', root: 'ok', stateDisk: 'ok', dataDisk: 'ok' } });
  });

  it('counts requests by method and status, conflicts by code, bytes, locks, retained versions, fsyncs, free space', async () => {
    expect((await t.request('PUT', '/m.txt', { body: 'first' })).status).toBe(201);
    expect((await t.request('PUT', '/m.txt', { body: 'second!' })).status).toBe(204);
    expect((await t.request('GET', '/m.txt')).status).toBe(200);
    expect((await t.request('PUT', '/m.txt', { body: 'x', headers: { 'If-Match': '"nope"' } })).status).toBe(412);
    const lock = await t.request('LOCK', '/m.txt', { body: LOCK_BODY, headers: { 'Content-Type': 'application/xml' } });
    expect(lock.status).toBe(200);
    expect((await t.request('DELETE', '/m.txt')).status).toBe(423);

    const scrape = await admin(t.server.adminUrl!, 'GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = scrape.text;
    expect(sample(m, 'keepdav_http_requests_total{method="PUT",status="201"}')).toBe(1);
    expect(sample(m, 'keepdav_http_requests_total{method="PUT",status="204"}')).toBe(1);
    expect(sample(m, 'keepdav_http_requests_total{method="GET",status="200"}')).toBe(1);
    expect(sample(m, 'keepdav_http_requests_total{method="DELETE",status="423"}')).toBe(1);
    expect(sample(m, 'keepdav_conflict_answers_total{status="412",code="precondition-failed"}')).toBe(1);
    expect(sample(m, 'keepdav_conflict_answers_total{status="423",code="lock-token-submitted"}')).toBe(1);
    expect(sample(m, 'keepdav_http_request_duration_seconds_count{method="PUT"}')).toBe(3);
    expect(sample(m, 'keepdav_http_received_bytes_total')!).toBeGreaterThan('first'.length + 'second!'.length);
    expect(sample(m, 'keepdav_http_sent_bytes_total')!).toBeGreaterThan('second!'.length);
    expect(sample(m, 'keepdav_http_requests_in_flight')).toBe(0);
    expect(sample(m, 'keepdav_active_locks')).toBe(1);
    expect(sample(m, 'keepdav_retained_versions')).toBe(1);
    expect(sample(m, 'keepdav_retained_bytes')).toBe('first'.length);
    expect(sample(m, 'keepdav_fsync_duration_seconds_count{kind="file"}')!).toBeGreaterThanOrEqual(2);
    expect(sample(m, 'keepdav_disk_free_bytes{disk="data"}')!).toBeGreaterThan(0);
    expect(sample(m, 'keepdav_disk_free_bytes{disk="state"}')!).toBeGreaterThan(0);
  });

  itWhenWatched('counts the listings kept and served from the listing cache, and the members kept', async () => {
    const scrape = async () => (await admin(t.server.adminUrl!, 'GET', '/metrics')).text;
    const before = await scrape();
    expect((await t.request('MKCOL', '/listed/')).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await t.request('PUT', `/listed/f${i}`, { body: 'x' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await t.request('PROPFIND', '/listed/', { headers: { Depth: '1' } })).status).toBe(207);
    const after = await scrape();
    const grew = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    expect(grew('keepdav_listing_cache_total{event="kept"}')).toBe(1);
    expect(grew('keepdav_listing_cache_total{event="served"}')).toBe(2);
    expect(sample(after, 'keepdav_listing_cache_members')!).toBeGreaterThanOrEqual(3);
  });

  it("counts a large upload's early flushes among the file fsyncs", async () => {
    const fileSyncs = async () => sample((await admin(t.server.adminUrl!, 'GET', '/metrics')).text, 'keepdav_fsync_duration_seconds_count{kind="file"}') ?? 0;
    const before = await fileSyncs();
    expect((await t.request('PUT', '/large.bin', { body: Buffer.alloc(EARLY_FLUSH_BYTES + (1 << 20), 1) })).status).toBe(201);
    expect((await fileSyncs()) - before).toBeGreaterThanOrEqual(2); // one while it arrived, the final one
  });

  it('answers 404 elsewhere and 405 for a wrong method, as JSON', async () => {
    expect((await admin(t.server.adminUrl!, 'GET', '/nothing')).status).toBe(404);
    const wrong = await admin(t.server.adminUrl!, 'POST', '/metrics');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD');
  });
});

describe('readiness on a full or read-only disk', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'keepdav-ready-'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  itWhenMountable('turns 503 when the state disk is full, and 200 again once there is room', async () => {
    const disk = join(base, 'disk');
    mkdirSync(disk);
    mount('-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk);
    try {
      const root = join(base, 'root');
      await mkdir(root);
      const { startServer } = await import('../../src/server');
      const { resolveConfig } = await import('../../src/config');
      const server = await startServer(resolveConfig({ root, stateDir: join(disk, 'state'), port: 0, adminListen: '127.0.0.1:0' }));
      try {
        expect((await admin(server.adminUrl!, 'GET', '/readyz')).status).toBe(200);
        // Fill the disk.
        const filler = join(disk, 'filler');
        try {
          writeFileSync(filler, Buffer.alloc(16 * 1024 * 1024));
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }
        const full = await admin(server.adminUrl!, 'GET', '/readyz');
        expect(full.status).toBe(503);
        const body = full.json();
        expect(body.status).toBe('not ready');
        expect(body.reason).toContain('the state disk is full');
        expect(body.checks.stateDisk).toMatch(/bytes free/);
        expect(body.checks.dataDisk).toBe('ok');
        await rm(filler);
        expect((await admin(server.adminUrl!, 'GET', '/readyz')).status).toBe(200);
      } finally {
        await server.close(1000);
      }
    } finally {
      spawnSync('umount', [disk]);
    }
  });

  itWhenMountable('turns 503 when the root is read-only', async () => {
    const root = join(base, 'root');
    mkdirSync(root);
    await writeFile(join(root, 'kept.txt'), 'kept');
    const { startServer } = await import('../../src/server');
    const { resolveConfig } = await import('../../src/config');
    const server = await startServer(resolveConfig({ root, stateDir: join(base, 'state'), port: 0, adminListen: '127.0.0.1:0' }));
    try {
      expect((await admin(server.adminUrl!, 'GET', '/readyz')).status).toBe(200);
      mount('--bind', root, root);
      try {
        mount('-o', 'remount,bind,ro', root);
        const ro = await admin(server.adminUrl!, 'GET', '/readyz');
        expect(ro.status).toBe(503);
        expect(ro.json()).toMatchObject({ status: 'not ready', checks: { root: 'read-only file system', stateStore: 'ok' } });
        expect(ro.json().reason).toContain(`the root ${root} is not writable`);
      } finally {
        spawnSync('umount', [root]);
      }
      expect((await admin(server.adminUrl!, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await server.close(1000);
    }
  });
});
