import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActiveLock } from '../../../src/locks/activeLock';
import { LockManager } from '../../../src/locks/lockManager';
import { LockStore, MemoryLockStore } from '../../../src/locks/lockStore';
import { CorruptLockRowError, SqliteLockStore } from '../../../src/locks/sqliteLockStore';
import { StateDatabase, openMemoryDatabase, openStateDatabase } from '../../../src/state/database';
import { ManualClock, POLICY, acquireSpec, sortByToken } from './lockTestKit';

function sample(token: string, overrides: Partial<ActiveLock> = {}): ActiveLock {
  return {
    token,
    root: '/a/b',
    scope: 'exclusive',
    depth: 'infinity',
    owner: '<D:owner xmlns:D="DAV:"><D:href>mailto:me@example.org</D:href></D:owner>',
    timeoutSeconds: 600,
    expiresAtMs: 1_600_000,
    createdAtMs: 1_000_000,
    ...overrides,
  };
}

const stores: Array<[string, () => LockStore]> = [
  ['MemoryLockStore', () => new MemoryLockStore()],
  ['SqliteLockStore', () => new SqliteLockStore(openMemoryDatabase())],
];

describe.each(stores)('%s', (_name, makeStore) => {
  const variants: Array<[string, ActiveLock]> = [
    ['a plain lock', sample('t1')],
    ['an Infinite timeout', sample('t2', { timeoutSeconds: Infinity, expiresAtMs: Infinity })],
    ['no owner, shared, depth 0, root path', sample('t3', { owner: null, scope: 'shared', depth: '0', root: '/' })],
    ['an empty owner string stays a string', sample('t4', { owner: '' })],
    ['unicode and odd characters in the root', sample('t5', { root: "/dé jà/100%/a'b\"c" })],
    ['fractional clock values', sample('t6', { expiresAtMs: 1.5, createdAtMs: 0.25 })],
    ['the principal who took it', sample('t7', { principal: 'Zoë' })],
  ];
  test.each(variants)('round-trips %s', (_label, lock) => {
    const store = makeStore();
    store.save(lock);
    expect(store.loadAll()).toEqual([lock]);
  });

  test('save replaces the lock with the same token', () => {
    const store = makeStore();
    store.save(sample('t1'));
    store.save(sample('t2'));
    store.save(sample('t1', { timeoutSeconds: 60, expiresAtMs: 2_000_000 }));
    expect(sortByToken(store.loadAll())).toEqual([sample('t1', { timeoutSeconds: 60, expiresAtMs: 2_000_000 }), sample('t2')]);
  });

  test('remove deletes the named tokens and ignores unknown ones and empty lists', () => {
    const store = makeStore();
    for (const token of ['t1', 't2', 't3']) store.save(sample(token));
    store.remove([]);
    store.remove(['t1', 'nope', 't3']);
    expect(store.loadAll()).toEqual([sample('t2')]);
  });

  test('what loadAll returns is a copy', () => {
    const store = makeStore();
    store.save(sample('t1'));
    const loaded = store.loadAll()[0] as { root: string };
    loaded.root = '/changed';
    expect(store.loadAll()[0].root).toBe('/a/b');
  });
});

describe('SqliteLockStore on disk', () => {
  let dir: string;
  let db: StateDatabase | null = null;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keepdav-locks-'));
  });
  afterEach(() => {
    db?.close();
    db = null;
    rmSync(dir, { recursive: true, force: true });
  });

  test('stores Infinity as NULL', () => {
    db = openStateDatabase(dir);
    new SqliteLockStore(db).save(sample('t1', { timeoutSeconds: Infinity, expiresAtMs: Infinity }));
    expect(db.prepare('SELECT timeout_seconds, expires_at_ms FROM locks').get()).toEqual({ timeout_seconds: null, expires_at_ms: null });
  });

  test('a database from before users existed gains the principal column and keeps its locks', () => {
    db = openStateDatabase(dir);
    db.exec(`CREATE TABLE locks (token TEXT PRIMARY KEY NOT NULL, root TEXT NOT NULL,
      scope TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')), depth TEXT NOT NULL CHECK (depth IN ('0', 'infinity')),
      owner TEXT, timeout_seconds REAL, expires_at_ms REAL, created_at_ms REAL NOT NULL)`);
    db.exec("INSERT INTO locks VALUES ('old', '/a/b', 'exclusive', 'infinity', NULL, 600, 1600000, 1000000)");
    const store = new SqliteLockStore(db);
    expect(store.loadAll()).toEqual([sample('old', { owner: null })]);
    expect(store.loadAll()[0]).not.toHaveProperty('principal');
    store.save(sample('new', { principal: 'alice' }));
    expect(new SqliteLockStore(db).loadAll().map((l) => [l.token, l.principal])).toEqual([['new', 'alice'], ['old', undefined]]);
  });

  test('a second store over the same database reuses the table', () => {
    db = openStateDatabase(dir);
    new SqliteLockStore(db).save(sample('t1'));
    expect(new SqliteLockStore(db).loadAll()).toEqual([sample('t1')]);
  });

  test.each<[string, string]>([
    ['a root that is no path', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', 'relative', 'shared', '0', NULL, 60, 1, 0)"],
    ['a root with a trailing slash', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a/', 'shared', '0', NULL, 60, 1, 0)"],
    ['an empty token', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('', '/a', 'shared', '0', NULL, 60, 1, 0)"],
    ['a text expiry', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '0', NULL, 60, 'soon', 0)"],
    ['a binary owner', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '0', x'00ff', 60, 1, 0)"],
  ])('loadAll refuses %s rather than drop a lock', (_name, insert) => {
    db = openStateDatabase(dir);
    const store = new SqliteLockStore(db);
    db.exec(insert);
    expect(() => store.loadAll()).toThrow(CorruptLockRowError);
  });

  test('the table refuses an unknown scope or depth', () => {
    db = openStateDatabase(dir);
    new SqliteLockStore(db);
    expect(() => db?.exec("INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'write', '0', NULL, 60, 1, 0)")).toThrow(/CHECK/);
    expect(() => db?.exec("INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '1', NULL, 60, 1, 0)")).toThrow(/CHECK/);
  });

  test('a new LockManager over the reopened database sees the same locks; expired ones are gone', () => {
    db = openStateDatabase(dir);
    const clock = new ManualClock();
    const before = new LockManager(new SqliteLockStore(db), clock.read, { ...POLICY, maxSeconds: Infinity });
    const shortLived = acquireSpec(before, 'x0:/short', [60]);
    const longLived = acquireSpec(before, 'xi:/long', [3600]);
    const forever = before.acquire({ root: '/forever', scope: 'shared', depth: '0', owner: '<o/>', requestedTimeouts: [Infinity] });
    const refreshed = before.refresh(acquireSpec(before, 's0:/r', [60]).token, '/r', [1800]);
    const released = acquireSpec(before, 'x0:/gone');
    before.release(released.token, '/gone');
    db.close();

    clock.advanceSeconds(61);
    db = openStateDatabase(dir);
    const store = new SqliteLockStore(db);
    const after = new LockManager(store, clock.read, POLICY);
    expect(sortByToken(after.within('/'))).toEqual(sortByToken([longLived, forever, refreshed]));
    expect(after.byToken(shortLived.token)).toBeUndefined();
    expect(sortByToken(store.loadAll())).toEqual(sortByToken([longLived, forever, refreshed]));
    expect(after.covering('/long/x')).toEqual([longLived]);
    expect(() => acquireSpec(after, 's0:/long/x')).toThrow();
    expect(acquireSpec(after, 'x0:/short').root).toBe('/short');
  });
});
