/**
 * replaceKeepingOld (src/versions/replaceKeepingOld.ts) over the real SQLite state store and file
 * store: an overwrite keeps the replaced bytes as the newest version and prunes the path's
 * versions beyond the newest N, rows and bytes; when the new content's record fails, the write is
 * undone and nothing of the step stays (no version kept, none pruned, the old bytes and ETag back).
 */
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { RetentionStore } from '../../../src/versions/retention';
import { FileStore } from '../../../src/storage/fileStore';
import { VersionStore } from '../../../src/versions/versionStore';
import { replaceKeepingOld } from '../../../src/versions/replaceKeepingOld';
import type { DavPath } from '../../../src/paths/davPath';

let base: string;
let state: SqliteStateStore;
let store: FileStore;
let retention: RetentionStore;
let versions: VersionStore;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-replace-'));
  await mkdir(join(base, 'root'));
  state = new SqliteStateStore(new Database(':memory:'));
  store = await FileStore.open(join(base, 'root'), join(base, 'retained'));
  retention = new RetentionStore(state, store, { maxVersionsPerPath: 2, maxAgeMs: 86_400_000, maxBytes: 1e9 });
  versions = new VersionStore(state.versions);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await state.close();
  await rm(base, { recursive: true, force: true });
});

/** What a PUT over `path` does: keep the current bytes, write `content`, record its new ETag. */
async function overwrite(path: DavPath, content: string, beforeRecord?: () => void) {
  const current = await store.stat(path);
  const replaced = current ? { path, etag: await versions.etagOf(path, current), size: current.size, mtimeMs: current.mtimeMs, ino: current.ino } : null;
  return replaceKeepingOld(
    retention, store, replaced, 'overwrite',
    () => store.writeAtomic(path, Readable.from([Buffer.from(content)]), { expectedLength: content.length }),
    async (written) => {
      beforeRecord?.();
      return versions.recordNewContent(path, written.stat, written.digests);
    },
  );
}

async function keptFiles(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else found.push(await readFile(join(dir, entry.name), 'utf8'));
    }
  };
  await walk(join(base, 'retained'));
  return found.sort();
}

it('keeps the replaced bytes as the newest version, then prunes beyond the newest N, rows and bytes', async () => {
  await writeFile(join(base, 'root', 'f.txt'), 'v1');
  for (const content of ['v2', 'v3']) await overwrite('/f.txt', content);
  expect((await retention.list('/f.txt')).length).toBe(2);

  const { recorded: etag, retainedId } = await overwrite('/f.txt', 'v4');

  const listed = await retention.list('/f.txt');
  expect(listed.map((v) => v.id)[0]).toBe(retainedId);
  expect(listed.length).toBe(2);
  expect(await keptFiles()).toEqual(['v2', 'v3']);
  expect(await readFile(join(base, 'root', 'f.txt'), 'utf8')).toBe('v4');
  expect(await versions.etagOf('/f.txt', (await store.stat('/f.txt'))!)).toBe(etag);
});

it('when the record fails, nothing of the step stays: the old bytes and ETag are back, no version is kept or pruned', async () => {
  await writeFile(join(base, 'root', 'f.txt'), 'v1');
  for (const content of ['v2', 'v3']) await overwrite('/f.txt', content);
  const before = await retention.list('/f.txt');
  const etagBefore = await versions.etagOf('/f.txt', (await store.stat('/f.txt'))!);

  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  await expect(overwrite('/f.txt', 'v4', () => {
    throw full;
  })).rejects.toBe(full);

  expect(await readFile(join(base, 'root', 'f.txt'), 'utf8')).toBe('v3');
  expect(await retention.list('/f.txt')).toEqual(before);
  expect(await keptFiles()).toEqual(['v1', 'v2']);
  expect(await versions.etagOf('/f.txt', (await store.stat('/f.txt'))!)).toBe(etagBefore);
  expect(await state.retention.pending()).toEqual([]);
});

it('a new file keeps nothing', async () => {
  const { retainedId } = await overwrite('/new.txt', 'first');
  expect(retainedId).toBeNull();
  expect(await keptFiles()).toEqual([]);
});
