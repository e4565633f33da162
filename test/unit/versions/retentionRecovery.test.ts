/**
 * RetentionStore's start-up recovery (issue 8, "crash windows in retention"), one crash window at
 * a time: a pending version whose bytes were never linked rolls back; one whose target still holds
 * the kept inode (the write never landed) rolls back and frees the bytes; one whose target was
 * replaced is committed and listed (the replaced bytes are not thrown away); retained bytes no row
 * names are re-indexed (orphanBytes.ts), half-kept copies freed; a pending tree whose rename
 * happened is recorded file by file.
 */
import { mkdtemp, readdir, rename, rm, writeFile, mkdir, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { settleOrphanBytes } from '../../../src/versions/orphanBytes';
import { RetentionStore } from '../../../src/versions/retention';
import { FileStore } from '../../../src/storage/fileStore';

let base: string;
let state: SqliteStateStore;
let store: FileStore;
let retention: RetentionStore;
const policy = { maxVersionsPerPath: 10, maxAgeMs: 86_400_000, maxBytes: 1e9 };
const etagOf = async () => '"e"';

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-retention-'));
  await mkdir(join(base, 'root'));
  state = new SqliteStateStore(new Database(':memory:'));
  store = await FileStore.open(join(base, 'root'), join(base, 'retained'));
  retention = new RetentionStore(state, store, policy);
});
afterEach(async () => {
  await state.close();
  await rm(base, { recursive: true, force: true });
});

const current = (p: string) => store.stat(p);
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) if (e.isFile()) out.push(e.name);
  return out;
}

async function pendingOverwrite(content: string) {
  await writeFile(join(base, 'root', 'f.txt'), content);
  const st = (await store.stat('/f.txt'))!;
  return (await retention.beginKeep({ path: '/f.txt', etag: '"old"', size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, 'overwrite'))!;
}

it('a pending version whose bytes were never linked is dropped', async () => {
  await pendingOverwrite('old');
  expect(await retention.recoverPending(current, etagOf)).toEqual({ completed: 0, rolledBack: 1 });
  expect(await retention.list('/f.txt')).toEqual([]);
});

it('a linked version whose overwrite never landed is rolled back and its bytes freed', async () => {
  const pending = await pendingOverwrite('old');
  await store.keepVersion('/f.txt', pending.key);
  expect(await retention.recoverPending(current, etagOf)).toEqual({ completed: 0, rolledBack: 1 });
  expect(await retention.list('/f.txt')).toEqual([]);
  expect(await filesUnder(join(base, 'retained'))).toEqual([]);
});

it('a linked version whose overwrite landed but was not committed is kept and listed', async () => {
  const pending = await pendingOverwrite('old bytes');
  await store.keepVersion('/f.txt', pending.key);
  await writeFile(join(base, 'root', 'new.tmp'), 'new');
  await rename(join(base, 'root', 'new.tmp'), join(base, 'root', 'f.txt'));
  expect(await retention.recoverPending(current, etagOf)).toEqual({ completed: 1, rolledBack: 0 });
  const [v] = await retention.list('/f.txt');
  expect(v).toMatchObject({ id: pending.id, reason: 'overwrite', size: 9 });
  const chunks: Buffer[] = [];
  for await (const c of (await retention.open(v.id))!) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe('old bytes');
});

it('a pending tree that was moved out is recorded file by file; unnamed bytes are re-indexed, half-kept ones freed', async () => {
  await mkdir(join(base, 'root', 'd', 's'), { recursive: true });
  await writeFile(join(base, 'root', 'd', 'a.txt'), 'a');
  await writeFile(join(base, 'root', 'd', 's', 'b.txt'), 'bb');
  const tree = await retention.beginTree('/d', 'delete', 1);
  expect(await store.moveOutAsKept('/d', tree.key)).toBe(true);
  expect((await retention.pendingTreesOf(1)).map((t) => t.id)).toEqual([tree.id]);
  await expect(retention.recoverPending(current, etagOf)).resolves.toEqual({ completed: 1, rolledBack: 0 });
  expect((await retention.listUnder('/d')).map((v) => [v.path, v.size, v.reason]).sort()).toEqual([['/d/a.txt', 1, 'delete'], ['/d/s/b.txt', 2, 'delete']]);

  await mkdir(join(base, 'retained', 'ffffffff'), { recursive: true });
  await writeFile(join(base, 'retained', 'ffffffff', 'orphan'), 'x');
  await link(join(base, 'retained', 'ffffffff', 'orphan'), join(base, 'retained', 'ffffffff', 'orphan.partial'));
  const settled = await settleOrphanBytes(retention, store, { freeLeftovers: true });
  expect(settled.reindexed).toEqual([expect.objectContaining({ path: '/recovered/ffffffff/orphan', size: 1 })]);
  expect(settled.removed).toBe(1);
  expect((await filesUnder(join(base, 'retained'))).sort()).toEqual(['a.txt', 'b.txt', 'orphan']);
  expect((await retention.list('/recovered/ffffffff/orphan')).map((v) => v.reason)).toEqual(['recovered']);
});

it('an overwrite through a symlink keeps the real file, not the link', async () => {
  await writeFile(join(base, 'root', 'real.txt'), 'real');
  await (await import('node:fs/promises')).symlink('real.txt', join(base, 'root', 'l.txt'));
  const st = (await store.stat('/l.txt'))!;
  const pending = (await retention.beginKeep({ path: '/l.txt', etag: '"x"', size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, 'overwrite'))!;
  await store.keepVersion('/l.txt', pending.key);
  await retention.commit(pending);
  const chunks: Buffer[] = [];
  for await (const c of (await retention.open(pending.id))!) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe('real');
});
