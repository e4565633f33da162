/**
 * Disk full is a 507 with nothing half-done (README, "Error codes": insufficient-storage), on the
 * served tree's disk and on the state's disk, each a small tmpfs of its own: every write answers
 * 507 and leaves the tree and the state as they were, reads go on, and once space returns the
 * same writes work without a restart. With root and state on one disk, a DELETE frees space
 * (retention keeps its --min-free reserve by pruning the oldest versions first).
 *
 * Needs `mount -t tmpfs` (root, as in CI); where mounting is refused the tests are skipped loudly.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, type RunningServer } from '../../src/server';
import { resolveConfig, type ConfigInput } from '../../src/config';
import { send, type TestResponse } from '../support/testServer';
import { codeOf } from '../support/conflictKit';
import { DAV, text } from '../support/xmlQuery';
import { foundProp } from '../support/davHttpKit';

jest.setTimeout(120_000);

const base = mkdtempSync(join(tmpdir(), 'keepdav-full-'));
const mounted: string[] = [];

/** Mounts a tmpfs of `size` with at most `inodes` inodes at `dir`; false when the machine refuses. */
function mountTmpfs(dir: string, size: string, inodes: number): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},nr_inodes=${inodes}`, 'tmpfs', dir]);
  if (r.status !== 0) return false;
  mounted.push(dir);
  return true;
}

const canMount = mountTmpfs(join(base, 'probe'), '1m', 16);
if (!canMount) console.error(`diskFull.test.ts SKIPPED: mount -t tmpfs is refused here (run as root, as CI does)`);
const describeWhereMountable = canMount ? describe : describe.skip;

afterAll(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', ['-l', dir]);
  rmSync(base, { recursive: true, force: true });
});

/** Fills the filesystem at `dir` to the last block and the last inode; returns the filler files. */
function fill(dir: string, inodesToo = true): string[] {
  const files: string[] = [];
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const big = join(dir, 'filler-blocks');
  files.push(big);
  const fd = openSync(big, 'w');
  try {
    for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          writeSync(fd, chunk, 0, size);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  for (let i = 0; inodesToo; i++) {
    const name = join(dir, `filler-inode-${i}`);
    try {
      closeSync(openSync(name, 'w'));
      files.push(name);
    } catch {
      break;
    }
  }
  return files;
}

function free(files: string[]): void {
  for (const f of files) rmSync(f, { force: true });
}

interface Setup {
  server: RunningServer;
  root: string;
  state: string;
  req(method: string, path: string, options?: { headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
}

async function serve(root: string, state: string, overrides: Partial<ConfigInput> = {}): Promise<Setup> {
  mkdirSync(root, { recursive: true });
  const server = await startServer(resolveConfig({ root, stateDir: state, port: 0, ...overrides }), (l: string) => process.env.KEEPDAV_TEST_LOG && process.stderr.write(l + "\n"));
  return { server, root, state, req: (method, path, options = {}) => send(server.port, undefined, method, path, options) };
}

const XML = { 'Content-Type': 'application/xml; charset=utf-8' };
const LOCKINFO = '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
const PROPPATCH = '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:example:full"><D:set><D:prop><x:color>blue</x:color></D:prop></D:set></D:propertyupdate>';
const PROPFIND_COLOR = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:x="urn:example:full"><D:prop><x:color/></D:prop></D:propfind>';

/** Every name below `dir` (recursive), for "nothing changed" comparisons. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [prefix + e.name + '/', ...tree(join(dir, e.name), prefix + e.name + '/')] : [prefix + e.name],
  ).sort();
}

function expect507(res: TestResponse): void {
  expect({ status: res.status, code: res.status === 507 ? codeOf(res) : res.text }).toEqual({ status: 507, code: 'insufficient-storage' });
}

describeWhereMountable('the served tree\'s disk full (state on another disk)', () => {
  let s: Setup;
  let fillers: string[];

  beforeAll(async () => {
    const data = join(base, 'data1');
    expect(mountTmpfs(data, '4m', 200)).toBe(true);
    s = await serve(join(data, 'root'), join(base, 'state1'));
    expect((await s.req('PUT', '/old.txt', { body: 'the old content' })).status).toBe(201);
    expect((await s.req('MKCOL', '/dir')).status).toBe(201);
    expect((await s.req('PUT', '/dir/a.txt', { body: 'a' })).status).toBe(201);
    fillers = fill(join(data));
  });
  afterAll(async () => {
    await s.server.close(1000);
  });

  it('PUT new, PUT overwrite, MKCOL, COPY, LOCK of a new name: 507 each, the tree unchanged; GET still answers', async () => {
    const before = tree(s.root);
    expect507(await s.req('PUT', '/new.txt', { body: 'x'.repeat(100_000) }));
    expect507(await s.req('PUT', '/old.txt', { body: 'y'.repeat(100_000) }));
    expect507(await s.req('MKCOL', '/newdir'));
    expect507(await s.req('COPY', '/dir/', { headers: { Destination: `${s.server.url}copy/` } }));
    expect507(await s.req('LOCK', '/locked-new.txt', { headers: { ...XML, Depth: '0' }, body: LOCKINFO }));
    expect(tree(s.root)).toEqual(before);
    expect(readFileSync(join(s.root, 'old.txt'), 'utf8')).toBe('the old content');
    expect((await s.req('GET', '/old.txt')).text).toBe('the old content');
    expect((await s.req('PROPFIND', '/dir/', { headers: { Depth: '1' } })).status).toBe(207);
    // the LOCK that could not create its file holds nothing
    expect((await s.req('PROPFIND', '/', { headers: { ...XML, Depth: '0' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' })).text).not.toContain('locked-new');
  });

  it('when space returns, the same writes work without a restart', async () => {
    free(fillers);
    expect((await s.req('PUT', '/new.txt', { body: 'x'.repeat(100_000) })).status).toBe(201);
    expect((await s.req('PUT', '/old.txt', { body: 'y' })).status).toBe(204);
    expect((await s.req('MKCOL', '/newdir')).status).toBe(201);
    expect((await s.req('COPY', '/dir/', { headers: { Destination: `${s.server.url}copy/` } })).status).toBe(201);
    expect((await s.req('LOCK', '/locked-new.txt', { headers: { ...XML, Depth: '0' }, body: LOCKINFO })).status).toBe(201);
    // and the replaced bytes of old.txt were kept
    const versions = JSON.parse((await s.req('GET', '/old.txt?versions')).text) as { versions: Array<{ size: number }> };
    expect(versions.versions.map((v) => v.size)).toEqual([15]);
  });
});

describeWhereMountable('the state\'s disk full (served tree on another disk)', () => {
  let s: Setup;
  let fillers: string[];

  beforeAll(async () => {
    const stateDisk = join(base, 'state2');
    expect(mountTmpfs(stateDisk, '4m', 200)).toBe(true);
    s = await serve(join(base, 'data2', 'root'), join(stateDisk, 'state'));
    expect((await s.req('PUT', '/old.txt', { body: 'the old content' })).status).toBe(201);
    expect((await s.req('MKCOL', '/dir')).status).toBe(201);
    expect((await s.req('PUT', '/dir/a.txt', { body: 'a' })).status).toBe(201);
    // Empty the write-ahead log, so the next database write has to grow a file.
    const side = new Database(join(s.state, 'keepdav.sqlite'));
    side.pragma('wal_checkpoint(TRUNCATE)');
    side.close();
    fillers = fill(stateDisk);
  });
  afterAll(async () => {
    await s.server.close(1000);
  });

  it('PUT new, PUT overwrite, COPY, PROPPATCH, LOCK: 507 each, nothing half-done; GET and PROPFIND still answer', async () => {
    const before = tree(s.root);
    expect507(await s.req('PUT', '/new.txt', { body: 'new' }));
    expect(existsSync(join(s.root, 'new.txt'))).toBe(false); // the file is not left behind its refused answer
    expect507(await s.req('PUT', '/old.txt', { body: 'replacement' }));
    expect507(await s.req('COPY', '/dir/', { headers: { Destination: `${s.server.url}copy/` } }));
    expect507(await s.req('PROPPATCH', '/old.txt', { headers: XML, body: PROPPATCH }));
    expect507(await s.req('LOCK', '/old.txt', { headers: { ...XML, Depth: '0' }, body: LOCKINFO }));
    expect(tree(s.root)).toEqual(before);
    expect(readFileSync(join(s.root, 'old.txt'), 'utf8')).toBe('the old content');
    expect((await s.req('GET', '/old.txt')).text).toBe('the old content');
    const props = await s.req('PROPFIND', '/old.txt', { headers: { ...XML, Depth: '0' }, body: PROPFIND_COLOR });
    expect(props.status).toBe(207);
    expect(foundProp(props.xml(), 'urn:example:full', 'color')).toBeUndefined(); // only in the 404 propstat
  });

  it('when space returns, the same writes work without a restart (and the refused LOCK holds nothing)', async () => {
    free(fillers);
    expect((await s.req('PUT', '/old.txt', { body: 'replacement' })).status).toBe(204); // no token needed: no lock was granted
    expect((await s.req('PUT', '/new.txt', { body: 'new' })).status).toBe(201);
    expect((await s.req('COPY', '/dir/', { headers: { Destination: `${s.server.url}copy/` } })).status).toBe(201);
    const patched = await s.req('PROPPATCH', '/old.txt', { headers: XML, body: PROPPATCH });
    expect(patched.status).toBe(207);
    expect(text(patched.xml(), DAV, 'status')).toMatch(/200/);
    const props = await s.req('PROPFIND', '/old.txt', { headers: { ...XML, Depth: '0' }, body: PROPFIND_COLOR });
    expect(foundProp(props.xml(), 'urn:example:full', 'color')).toBeDefined();
    expect((await s.req('LOCK', '/old.txt', { headers: { ...XML, Depth: '0' }, body: LOCKINFO })).status).toBe(200);
  });
});

describeWhereMountable('root and state on one full disk', () => {
  it('filled to the last block and inode by uploads: a DELETE still goes through and frees space (the ballast gives way), and the server starts again on a disk full to the last block', async () => {
    const disk = join(base, 'brim');
    expect(mountTmpfs(disk, '8m', 400)).toBe(true);
    const root = join(disk, 'root');
    const state = join(disk, 'state');
    const MiB = 1024 * 1024;
    let s = await serve(root, state, { retention: { minFree: { bytes: 256 * 1024 } }, adminListen: null } as Partial<ConfigInput>);
    const brim: string[] = [];
    try {
      expect(existsSync(join(state, 'space-ballast'))).toBe(true);
      // Old versions that pruning may free: five overwrites of one file.
      for (let i = 0; i < 5; i++) expect([201, 204]).toContain((await s.req('PUT', '/doc.bin', { body: String(i).repeat(512 * 1024) })).status);
      // Then the disk filled to the brim by new uploads, and past them by a filler.
      for (let n = 0; n < 40; n++) if ((await s.req('PUT', `/fill-${n}.bin`, { body: 'f'.repeat(MiB / 2) })).status === 507) break;
      brim.push(...fill(disk));
      expect507(await s.req('PUT', '/one-more.txt', { body: 'x' }));
      const del = await s.req('DELETE', '/fill-0.bin');
      expect(del.status).toBe(204);
      expect(existsSync(join(root, 'fill-0.bin'))).toBe(false);
      // The old versions went to win back the reserve and the ballast.
      expect((JSON.parse((await s.req('GET', '/doc.bin?versions')).text) as { versions: unknown[] }).versions.length).toBeLessThan(4);
      expect((await s.req('PUT', '/one-more.txt', { body: 'x' })).status).toBe(201);
    } finally {
      await s.server.close(1000);
    }
    // Full again to the last block (the ballast was laid down anew once pruning made room): the
    // server still starts on it, and reads are served.
    expect(existsSync(join(state, 'space-ballast'))).toBe(true);
    const fillers = fill(disk, false);
    s = await serve(root, state, { retention: { minFree: { bytes: 256 * 1024 } } } as Partial<ConfigInput>);
    try {
      expect((await s.req('GET', '/one-more.txt')).text).toBe('x');
      // The start gave the ballast up. Once another program frees room, the next prune wins it back...
      free([...fillers, ...brim]);
      for (let i = 0; i < 3; i++) expect([201, 204]).toContain((await s.req('PUT', '/again.bin', { body: String(i).repeat(64 * 1024) })).status);
      expect(existsSync(join(state, 'space-ballast'))).toBe(true);
      // ...so a DELETE on a disk full again still goes through.
      fill(disk);
      expect((await s.req('DELETE', '/fill-1.bin')).status).toBe(204);
    } finally {
      await s.server.close(1000);
    }
  });

  it('a DELETE frees space: retention keeps its --min-free reserve by pruning the oldest versions first; then a PUT fits', async () => {
    const disk = join(base, 'one');
    expect(mountTmpfs(disk, '8m', 400)).toBe(true);
    const MiB = 1024 * 1024;
    const s = await serve(join(disk, 'root'), join(disk, 'state'), { retention: { minFree: { bytes: 1.5 * MiB } } });
    try {
      const body = 'z'.repeat(MiB);
      // The oldest version: f0's first content, replaced.
      expect((await s.req('PUT', '/f0.bin', { body })).status).toBe(201);
      expect((await s.req('PUT', '/f0.bin', { body: 'small' })).status).toBe(204);
      let n = 1;
      for (; n < 20; n++) {
        const res = await s.req('PUT', `/f${n}.bin`, { body });
        if (res.status === 507) break;
        expect(res.status).toBe(201);
      }
      expect(n).toBeGreaterThan(2);
      expect(n).toBeLessThan(20); // the disk did fill up
      expect507(await s.req('PUT', `/f${n}.bin`, { body }));
      expect((await s.req('DELETE', '/f1.bin')).status).toBe(204);
      const versionsOf = async (path: string) => (JSON.parse((await s.req('GET', `${path}?versions`)).text) as { versions: Array<{ reason: string }> }).versions.map((v) => v.reason);
      expect(await versionsOf('/f0.bin')).toEqual([]); // the oldest version went to keep the reserve
      expect(await versionsOf('/f1.bin')).toEqual(['delete']); // the newest is still restorable
      expect((await s.req('PUT', `/f${n}.bin`, { body })).status).toBe(201);
      expect((await s.req('GET', '/f2.bin')).body.length).toBe(body.length);
    } finally {
      await s.server.close(1000);
    }
  });
});

describeWhereMountable('root and state on two mounts', () => {
  it('the server says at start that retained versions will be copies; with both on one mount it says nothing', async () => {
    const disk = join(base, 'mount-a');
    expect(mountTmpfs(disk, '4m', 100)).toBe(true);
    const startLogged = async (root: string, state: string): Promise<string> => {
      mkdirSync(root, { recursive: true });
      const lines: string[] = [];
      const server = await startServer(resolveConfig({ root, stateDir: state, port: 0 }), (l: string) => lines.push(l));
      await server.close(1000);
      return lines.join('\n');
    };
    expect(await startLogged(join(disk, 'root'), join(base, 'state-elsewhere'))).toMatch(/every version retained will be a full copy/);
    expect(await startLogged(join(disk, 'root2'), join(disk, 'state2'))).not.toMatch(/full copy/);
    expect(readdirSync(join(disk, 'root')).filter((n) => n.startsWith('.keepdav-tmp'))).toEqual([]);
  });
});
