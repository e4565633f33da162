/**
 * RetentionStore.prune's byte budget (src/versions/retention.ts): the oldest versions go first
 * until the kept bytes fit, and the kept bytes come from keptBytes, never from totals (a count of
 * every retained version, which made each DELETE and overwrite slower as the history grew).
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { RetentionStore } from '../../../src/versions/retention';
import { FileStore } from '../../../src/storage/fileStore';

let base: string;
let state: SqliteStateStore;
let store: FileStore;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-prune-'));
  await mkdir(join(base, 'root'));
  state = new SqliteStateStore(new Database(':memory:'));
  store = await FileStore.open(join(base, 'root'), join(base, 'retained'));
});
afterEach(async () => {
  jest.restoreAllMocks();
  await state.close();
  await rm(base, { recursive: true, force: true });
});

/** Keeps the current bytes of `path` as a committed version (what an overwrite does before writing). */
async function keep(retention: RetentionStore, path: string, content: string): Promise<string> {
  await writeFile(join(base, 'root', path.slice(1)), content);
  const st = (await store.stat(path))!;
  const pending = (await retention.beginKeep({ path, etag: `"${content}"`, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, 'overwrite'))!;
  await store.keepVersion(path, pending.key);
  await retention.commit(pending);
  return pending.id;
}

it('keeps the newest versions within the byte budget, reading the kept bytes without counting the versions', async () => {
  const retention = new RetentionStore(state, store, { maxVersionsPerPath: 10, maxAgeMs: 86_400_000, maxBytes: 25 });
  const ids: string[] = [];
  for (const content of ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd']) ids.push(await keep(retention, '/f.txt', content));
  const totals = jest.spyOn(state.retention, 'totals');
  const keptBytes = jest.spyOn(state.retention, 'keptBytes');
  expect(await retention.prune(['/f.txt'])).toBe(2);
  expect((await retention.list('/f.txt')).map((v) => v.id)).toEqual([ids[3], ids[2]]);
  expect(await state.retention.keptBytes()).toBe(20);
  expect(keptBytes).toHaveBeenCalled();
  expect(totals).not.toHaveBeenCalled();
});

it('asks the state clock only when the age limit is due (once a minute), not on every prune', async () => {
  const retention = new RetentionStore(state, store, { maxVersionsPerPath: 10, maxAgeMs: 86_400_000, maxBytes: 1e9 });
  await keep(retention, '/g.txt', 'one');
  const now = jest.spyOn(state, 'now');
  for (let i = 0; i < 3; i++) await retention.prune(['/g.txt']);
  expect(now).toHaveBeenCalledTimes(1);
  await retention.pruneAll([]);
  expect(now).toHaveBeenCalledTimes(2);
});
