/**
 * The `webdav` npm client (v5) against a real keepdav. The package is ESM-only, so its calls run in
 * a child node process (test/support/webdavClientDriver.mjs) that prints their outcomes as JSON;
 * each test then checks the disk under the served root and keepdav's own answers.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { header } from '../support/davHttpKit';
import { itWhenInstalled, pseudoRandomBytes, run } from '../support/realClientKit';

const DRIVER = join(__dirname, '..', 'support', 'webdavClientDriver.mjs');

/** The package exports no package.json, so look for it where node's resolution from the driver finds it. */
function webdavInstalled(): boolean {
  return existsSync(join(__dirname, '..', '..', 'node_modules', 'webdav', 'package.json'));
}
const available = webdavInstalled();
const runsHere = itWhenInstalled('the webdav npm package', available, 'npm install (it is a devDependency)');

type Outcome = { ok: true; value: unknown } | { ok: false; status: number | null; message: string; body?: string };
interface Call {
  call: string;
  args?: unknown[];
}

interface FileStat {
  filename: string;
  basename: string;
  lastmod: string;
  size: number;
  type: 'file' | 'directory';
  etag: string | null;
  mime?: string;
}

const b64 = (data: Buffer | string) => ({ $base64: Buffer.from(data).toString('base64') });
const bytesOf = (value: unknown) => Buffer.from((value as { $base64: string }).$base64, 'base64');

describe('webdav npm client', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs the calls in one child process (one client instance) and returns their outcomes. */
  async function client(calls: Call[]): Promise<Outcome[]> {
    const r = await run(process.execPath, [DRIVER, t.url], { timeoutMs: 60_000, input: JSON.stringify(calls) });
    if (r.status !== 0) throw new Error(`webdav driver failed (exit ${r.status}): ${r.output}`);
    const outcomes = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Outcome[];
    expect(outcomes).toHaveLength(calls.length);
    return outcomes;
  }
  /** One call that must succeed; returns its value. */
  async function ok(call: string, ...args: unknown[]): Promise<unknown> {
    const [o] = await client([{ call, args }]);
    if (!o.ok) throw new Error(`${call}(${JSON.stringify(args).slice(0, 200)}) failed: ${o.status} ${o.message}\n${o.body ?? ''}`);
    return o.value;
  }
  /** One call that must fail; returns the outcome. */
  async function fails(call: string, ...args: unknown[]): Promise<{ status: number | null; message: string; body?: string }> {
    const [o] = await client([{ call, args }]);
    if (o.ok) throw new Error(`${call}(${JSON.stringify(args).slice(0, 200)}) unexpectedly succeeded: ${JSON.stringify(o.value)}`);
    return o;
  }
  const disk = (rel: string) => join(t.root, rel);
  const mtimeSec = (rel: string) => Math.floor(statSync(disk(rel)).mtimeMs / 1000);

  const binary = pseudoRandomBytes(300_000, 99);

  runsHere('createDirectory (recursive) creates the folders on disk', async () => {
    await ok('createDirectory', '/projects/été 2024/drafts', { recursive: true });
    expect(statSync(disk('projects/été 2024/drafts')).isDirectory()).toBe(true);
    await ok('createDirectory', '/projects/empty');
    expect(statSync(disk('projects/empty')).isDirectory()).toBe(true);
    // A second, non-recursive createDirectory of an existing folder is refused (405).
    expect((await fails('createDirectory', '/projects/empty')).status).toBe(405);
  });

  runsHere('putFileContents writes byte-identical files; getFileContents reads them back', async () => {
    expect(await ok('putFileContents', '/projects/été 2024/notes – 日本語.txt', 'Grüße\n')).toBe(true);
    expect(readFileSync(disk('projects/été 2024/notes – 日本語.txt'), 'utf8')).toBe('Grüße\n');
    expect(await ok('putFileContents', '/projects/data.bin', b64(binary))).toBe(true);
    expect(readFileSync(disk('projects/data.bin')).equals(binary)).toBe(true);
    expect(await ok('putFileContents', '/projects/empty.txt', '')).toBe(true);
    expect(statSync(disk('projects/empty.txt')).size).toBe(0);

    const [bin, text] = await client([
      { call: 'getFileContents', args: ['/projects/data.bin'] },
      { call: 'getFileContents', args: ['/projects/été 2024/notes – 日本語.txt', { format: 'text' }] },
    ]);
    expect(bin.ok && bytesOf(bin.value).equals(binary)).toBe(true);
    expect(text).toEqual({ ok: true, value: 'Grüße\n' });

    const missing = await fails('getFileContents', '/projects/nope.bin');
    expect(missing.status).toBe(404);
  });

  runsHere('getDirectoryContents lists the folder as on disk (names, types, sizes, lastmod, etags)', async () => {
    const list = (await ok('getDirectoryContents', '/projects')) as FileStat[];
    const seen = list.map((s) => ({ basename: s.basename, type: s.type, size: s.size, mtime: Math.floor(Date.parse(s.lastmod) / 1000) })).sort((a, b) => a.basename.localeCompare(b.basename));
    const expected = [
      { basename: 'data.bin', type: 'file', size: binary.length, mtime: mtimeSec('projects/data.bin') },
      { basename: 'empty', type: 'directory', size: 0, mtime: mtimeSec('projects/empty') },
      { basename: 'empty.txt', type: 'file', size: 0, mtime: mtimeSec('projects/empty.txt') },
      { basename: 'été 2024', type: 'directory', size: 0, mtime: mtimeSec('projects/été 2024') },
    ].sort((a, b) => a.basename.localeCompare(b.basename));
    expect(seen).toEqual(expected);
    for (const s of list.filter((e) => e.type === 'file')) expect(s.etag).toBeTruthy();
    expect(list.find((s) => s.basename === 'data.bin')?.filename).toBe('/projects/data.bin');

    const deep = (await ok('getDirectoryContents', '/projects/été 2024')) as FileStat[];
    expect(deep.map((s) => s.basename).sort()).toEqual(['drafts', 'notes – 日本語.txt']);
  });

  runsHere('stat gives the etag keepdav sends on GET and the lastmod of the file on disk', async () => {
    const s = (await ok('stat', '/projects/data.bin')) as FileStat;
    const head = await t.request('HEAD', '/projects/data.bin');
    expect(head.status).toBe(200);
    // The client strips the quotes of the ETag.
    expect(`"${(s.etag ?? '').replace(/^"|"$/g, '')}"`).toBe(header(head, 'etag'));
    expect(Math.floor(Date.parse(s.lastmod) / 1000)).toBe(mtimeSec('projects/data.bin'));
    expect(s).toMatchObject({ type: 'file', size: binary.length, basename: 'data.bin' });
    expect((await fails('stat', '/projects/nope')).status).toBe(404);
  });

  runsHere('copyFile and moveFile change the tree on disk', async () => {
    await ok('copyFile', '/projects/data.bin', '/projects/été 2024/copy.bin');
    expect(readFileSync(disk('projects/été 2024/copy.bin')).equals(binary)).toBe(true);
    expect(readFileSync(disk('projects/data.bin')).equals(binary)).toBe(true);

    await ok('moveFile', '/projects/été 2024/copy.bin', '/projects/moved.bin');
    expect(existsSync(disk('projects/été 2024/copy.bin'))).toBe(false);
    expect(readFileSync(disk('projects/moved.bin')).equals(binary)).toBe(true);

    // A whole folder.
    await ok('copyFile', '/projects/été 2024', '/projects/été copy');
    expect(readFileSync(disk('projects/été copy/notes – 日本語.txt'), 'utf8')).toBe('Grüße\n');
    expect(statSync(disk('projects/été copy/drafts')).isDirectory()).toBe(true);

    // copyFile with overwrite: false onto an existing file: 412, the target unchanged.
    const refused = await fails('copyFile', '/projects/empty.txt', '/projects/moved.bin', { overwrite: false });
    expect(refused.status).toBe(412);
    expect(readFileSync(disk('projects/moved.bin')).equals(binary)).toBe(true);
  });

  runsHere('lock/unlock: a write by another client without the token fails with 423; with the token it succeeds', async () => {
    const lock = (await ok('lock', '/projects/moved.bin')) as { token: string; serverTimeout: string };
    expect(lock.token).toMatch(/^urn:uuid:/);

    // Another client (another process), no token: 423 and keepdav names the lock root.
    const blocked = await fails('putFileContents', '/projects/moved.bin', 'intruder');
    expect(blocked.status).toBe(423);
    expect(blocked.body ?? '').toContain('lock-token-submitted');
    expect(readFileSync(disk('projects/moved.bin')).equals(binary)).toBe(true);
    expect((await fails('deleteFile', '/projects/moved.bin')).status).toBe(423);
    expect(existsSync(disk('projects/moved.bin'))).toBe(true);
    // A second lock is refused as well.
    expect((await fails('lock', '/projects/moved.bin')).status).toBe(423);

    // The lock holder submits the token in an If header.
    expect(await ok('putFileContents', '/projects/moved.bin', 'written under the lock\n', { headers: { If: `(<${lock.token}>)` } })).toBe(true);
    expect(readFileSync(disk('projects/moved.bin'), 'utf8')).toBe('written under the lock\n');

    await ok('unlock', '/projects/moved.bin', `<${lock.token}>`);
    expect(await ok('putFileContents', '/projects/moved.bin', 'after the unlock\n')).toBe(true);
    expect(readFileSync(disk('projects/moved.bin'), 'utf8')).toBe('after the unlock\n');
    // Unlocking again with the same (now unknown) token fails.
    const again = await fails('unlock', '/projects/moved.bin', `<${lock.token}>`);
    expect([409, 412]).toContain(again.status);
  });

  runsHere('putFileContents with overwrite: false onto an existing file is refused (412), the file unchanged', async () => {
    // The client maps the 412 of If-None-Match: * to `false`.
    expect(await ok('putFileContents', '/projects/moved.bin', 'must not replace', { overwrite: false })).toBe(false);
    expect(readFileSync(disk('projects/moved.bin'), 'utf8')).toBe('after the unlock\n');
    // Whereas a new name is created.
    expect(await ok('putFileContents', '/projects/fresh.txt', 'fresh\n', { overwrite: false })).toBe(true);
    expect(readFileSync(disk('projects/fresh.txt'), 'utf8')).toBe('fresh\n');
  });

  runsHere('a conditional write with a stale If-Match fails with 412; with the current ETag it succeeds', async () => {
    const before = (await ok('stat', '/projects/fresh.txt')) as FileStat;
    expect(await ok('putFileContents', '/projects/fresh.txt', 'changed by someone else\n')).toBe(true);
    const after = (await ok('stat', '/projects/fresh.txt')) as FileStat;
    expect(after.etag).not.toBe(before.etag);
    const quote = (e: string | null) => `"${(e ?? '').replace(/^"|"$/g, '')}"`;

    const stale = await fails('putFileContents', '/projects/fresh.txt', 'based on the old version\n', { headers: { 'If-Match': quote(before.etag) } });
    expect(stale.status).toBe(412);
    expect(stale.body ?? '').toContain('precondition-failed');
    expect(readFileSync(disk('projects/fresh.txt'), 'utf8')).toBe('changed by someone else\n');

    expect(await ok('putFileContents', '/projects/fresh.txt', 'based on the current version\n', { headers: { 'If-Match': quote(after.etag) } })).toBe(true);
    expect(readFileSync(disk('projects/fresh.txt'), 'utf8')).toBe('based on the current version\n');
  });

  runsHere('deleteFile removes files and folders from disk; a missing one is 404', async () => {
    await ok('deleteFile', '/projects/fresh.txt');
    expect(existsSync(disk('projects/fresh.txt'))).toBe(false);
    await ok('deleteFile', '/projects/été copy');
    expect(existsSync(disk('projects/été copy'))).toBe(false);
    expect((await fails('deleteFile', '/projects/fresh.txt')).status).toBe(404);
    expect(await ok('exists', '/projects/moved.bin')).toBe(true);
    expect(await ok('exists', '/projects/fresh.txt')).toBe(false);
  });

  runsHere('a deep listing (PROPFIND Depth: infinity) is refused with 403 by default', async () => {
    const deep = await fails('getDirectoryContents', '/projects', { deep: true });
    expect(deep.status).toBe(403);
    expect(deep.body ?? '').toContain('propfind-finite-depth');
  });
});

describe('webdav npm client, server started with --propfind-infinity', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ allowPropfindInfinity: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  runsHere('getDirectoryContents({ deep: true }) lists the whole tree', async () => {
    await t.request('MKCOL', '/a/');
    await t.request('MKCOL', '/a/b%20c/');
    await t.request('PUT', '/a/b%20c/f%C3%BC.txt', { body: 'x' });
    await t.request('PUT', '/a/top.txt', { body: 'yy' });
    const r = await run(process.execPath, [DRIVER, t.url], { timeoutMs: 60_000, input: JSON.stringify([{ call: 'getDirectoryContents', args: ['/a', { deep: true }] }]) });
    const [o] = JSON.parse(r.stdout) as Outcome[];
    if (!o.ok) throw new Error(`deep listing failed: ${o.status} ${o.message} ${o.body ?? ''}`);
    const seen = (o.value as FileStat[]).map((s) => `${s.type}:${s.filename}:${s.size}`).sort();
    expect(seen).toEqual(['directory:/a/b c:0', 'file:/a/b c/fü.txt:1', 'file:/a/top.txt:2']);
  });
});
