import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { describeStateStoreContract } from '../../contract/stateStore.contract';
import { TestClock } from '../../support/testClock';

describeStateStoreContract('SQLite (in memory)', async () => {
  const clock = new TestClock(1_700_000_000_000);
  const store = new SqliteStateStore(new Database(':memory:'), { clock: clock.now });
  return { store, clock, close: () => store.close() };
});

describe('SQLite: version records of concurrent uploads commit as one transaction', () => {
  const record = (etag: string, size = 1) => ({ etag, ino: 7, size, mtimeMs: 1_700_000_000_000, sha1: null, md5: null });

  function openStore() {
    const db = new Database(':memory:');
    const store = new SqliteStateStore(db, { clock: () => 1_700_000_000_000 });
    // Counts the commits of grouped writes and transactions (an autocommit statement makes none).
    const execs: string[] = [];
    const exec = db.exec.bind(db);
    db.exec = (sql: string) => {
      execs.push(sql);
      return exec(sql);
    };
    return { db, store, execs };
  }

  it('commits the records issued in one turn together, once, and each caller sees its own outcome', async () => {
    const { store, execs } = openStore();
    await Promise.all(['/a', '/b', '/c', '/d'].map((path, i) => store.versions.put(path, record(`"${i}"`))));
    expect(execs.filter((sql) => sql === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(execs.filter((sql) => sql === 'COMMIT')).toHaveLength(1);
    expect((await store.versions.get('/c'))?.etag).toBe('"2"');
    expect((await store.versions.paths()).sort()).toEqual(['/a', '/b', '/c', '/d']);
    await store.close();
  });

  it('runs the waiting records before any later step, so a read issued after them sees them', async () => {
    const { store } = openStore();
    const written = store.versions.put('/x', record('"x1"'));
    // Not awaited: the read comes after the write in issue order, and so sees it.
    expect((await store.versions.get('/x'))?.etag).toBe('"x1"');
    await written;
    const second = store.versions.put('/x', record('"x2"'));
    const moved = store.versions.moveSubtree('/x', '/y');
    await Promise.all([second, moved]);
    expect(await store.versions.get('/x')).toBeNull();
    expect((await store.versions.get('/y'))?.etag).toBe('"x2"');
    await store.close();
  });

  it('commits the waiting records before a transaction that comes after them begins', async () => {
    const { store } = openStore();
    const written = store.versions.put('/t', record('"t1"'));
    const seen = await store.transaction(async (tx) => (await tx.versions.get('/t'))?.etag);
    expect(seen).toBe('"t1"');
    await written;
    await store.close();
  });

  it('when one record of a group fails, the others are still stored and only its caller is told', async () => {
    const { store, execs } = openStore();
    const outcomes = await Promise.allSettled([
      store.versions.put('/ok1', record('"1"')),
      store.versions.put('/bad', { ...record('"2"'), etag: null as unknown as string }),
      store.versions.put('/ok2', record('"3"')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/NOT NULL/);
    expect(execs).toContain('ROLLBACK');
    expect((await store.versions.paths()).sort()).toEqual(['/ok1', '/ok2']);
    await store.close();
  });

  it('a group rolled back reloads what it kept in memory: the retained bytes count each row once', async () => {
    const { store } = openStore();
    const kept = { id: 'k1', path: '/f', retainedAtMs: 1000, size: 10, etag: '"k1"', mtimeMs: 500, reason: 'overwrite' as const, storage: 'st/k1', pendingReason: null, sourceIno: null, pendingKind: null, intentId: null };
    const outcomes = await Promise.allSettled([
      store.retention.insert(kept),
      store.versions.put('/bad', { ...record('"b"'), etag: null as unknown as string }),
      store.retention.insert({ ...kept, id: 'k2', storage: 'st/k2', size: 5 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.retention.totals()).toEqual({ count: 2, bytes: 15 });
    await store.close();
  });

  it('records issued after close() are refused, never left waiting', async () => {
    const { store } = openStore();
    await store.close();
    const outcomes = await Promise.allSettled([store.versions.put('/a', record('"a"')), store.versions.put('/b', record('"b"'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });

  it('close() commits the records still waiting', async () => {
    const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'keepdav-group-'));
    const file = require('node:path').join(dir, 'state.db');
    const store = new SqliteStateStore(new Database(file), { clock: () => 1_700_000_000_000 });
    const written = store.versions.put('/late', record('"late"'));
    await store.close();
    await written;
    const reopened = new SqliteStateStore(new Database(file), { clock: () => 1_700_000_000_000 });
    expect((await reopened.versions.get('/late'))?.etag).toBe('"late"');
    await reopened.close();
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  });
});
