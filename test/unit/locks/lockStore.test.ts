/** Lock records persisted by the SQLite state store: what one store grants, a store reopened on the same file loads. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActiveLock } from '../../../src/locks/activeLock';
import { LockManager } from '../../../src/locks/lockManager';
import { CorruptLockRowError } from '../../../src/state/sqlite/sqliteLocks';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { StateDatabase, openStateDatabase } from '../../../src/state/database';
import type { NewLock } from '../../../src/state/stateStore';
import { ManualClock, POLICY, acquireSpec, sortByToken } from './lockTestKit';

function sample(token: string, overrides: Partial<NewLock> = {}): NewLock {
  return {
    token,
    root: '/a/b',
    scope: 'exclusive',
    depth: 'infinity',
    owner: '<D:owner xmlns:D="DAV:"><D:href>mailto:me@example.org</D:href></D:owner>',
    timeoutSeconds: 600,
    ...overrides,
  };
}

describe('SQLite lock records on disk', () => {
  let dir: string;
  let db: StateDatabase | null = null;
  const clock = new ManualClock(1_000_000.25);
  const open = () => {
    db = openStateDatabase(dir);
    return new SqliteStateStore(db, { clock: clock.read });
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keepdav-locks-'));
  });
  afterEach(() => {
    if (db?.open) db.close();
    db = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const variants: Array<[string, NewLock]> = [
    ['a plain lock', sample('t1')],
    ['an Infinite timeout', sample('t2', { timeoutSeconds: Infinity })],
    ['no owner, shared, depth 0, root path', sample('t3', { owner: null, scope: 'shared', depth: '0', root: '/' })],
    ['an empty owner string stays a string', sample('t4', { owner: '' })],
    ['unicode and odd characters in the root', sample('t5', { root: "/dé jà/100%/a'b\"c" })],
    ['the principal who took it', sample('t7', { principal: 'Zoë' })],
  ];
  test.each(variants)('round-trips %s through a reopened store', async (_label, lock) => {
    const granted = (await open().locks.insertUnlessConflicting(lock)).granted!;
    db!.close();
    expect(await open().locks.within('/')).toEqual([granted]);
  });

  test('stores Infinity as NULL', async () => {
    await open().locks.insertUnlessConflicting(sample('t1', { timeoutSeconds: Infinity }));
    expect(db!.prepare('SELECT timeout_seconds, expires_at_ms FROM locks').get()).toEqual({ timeout_seconds: null, expires_at_ms: null });
  });

  test('a database from before users existed gains the principal column and keeps its locks', async () => {
    db = openStateDatabase(dir);
    db.exec(`CREATE TABLE locks (token TEXT PRIMARY KEY NOT NULL, root TEXT NOT NULL,
      scope TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')), depth TEXT NOT NULL CHECK (depth IN ('0', 'infinity')),
      owner TEXT, timeout_seconds REAL, expires_at_ms REAL, created_at_ms REAL NOT NULL)`);
    db.exec("INSERT INTO locks VALUES ('old', '/a/b', 'exclusive', 'infinity', NULL, 600, 1600000, 1000000)");
    db.close();
    const store = open();
    const loaded = await store.locks.within('/');
    expect(loaded).toEqual([{ token: 'old', root: '/a/b', scope: 'exclusive', depth: 'infinity', owner: null, timeoutSeconds: 600, expiresAtMs: 1_600_000, createdAtMs: 1_000_000 }]);
    expect(loaded[0]).not.toHaveProperty('principal');
    await store.locks.insertUnlessConflicting(sample('new', { root: '/c', principal: 'alice' }));
    db!.close();
    expect((await open().locks.within('/')).map((l) => [l.token, l.principal])).toEqual([['old', undefined], ['new', 'alice']]);
  });

  test.each<[string, string]>([
    ['a root that is no path', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', 'relative', 'shared', '0', NULL, 60, 1e15, 0)"],
    ['a root with a trailing slash', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a/', 'shared', '0', NULL, 60, 1e15, 0)"],
    ['an empty token', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('', '/a', 'shared', '0', NULL, 60, 1e15, 0)"],
    ['a text expiry', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '0', NULL, 60, 'soon', 0)"],
    ['a binary owner', "INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '0', x'00ff', 60, 1e15, 0)"],
  ])('opening refuses %s rather than drop a lock', (_name, insert) => {
    open();
    db!.exec(insert);
    db!.close();
    expect(() => open()).toThrow(CorruptLockRowError);
  });

  test('the table refuses an unknown scope or depth', () => {
    open();
    expect(() => db?.exec("INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'write', '0', NULL, 60, 1, 0)")).toThrow(/CHECK/);
    expect(() => db?.exec("INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms) VALUES ('t', '/a', 'shared', '1', NULL, 60, 1, 0)")).toThrow(/CHECK/);
  });

  test('a LockManager over the reopened database sees the same locks; expired ones are gone', async () => {
    const before = new LockManager(open().locks, { ...POLICY, maxSeconds: Infinity });
    const shortLived = await acquireSpec(before, 'x0:/short', [60]);
    const longLived = await acquireSpec(before, 'xi:/long', [3600]);
    const forever = await before.acquire({ root: '/forever', scope: 'shared', depth: '0', owner: '<o/>', requestedTimeouts: [Infinity] });
    const refreshed = await before.refresh((await acquireSpec(before, 's0:/r', [60])).token, '/r', [1800]);
    const released = await acquireSpec(before, 'x0:/gone');
    await before.release(released.token, '/gone');
    db!.close();

    clock.advanceSeconds(61);
    const after = new LockManager(open().locks, POLICY);
    expect(sortByToken(await after.within('/'))).toEqual(sortByToken([longLived, forever, refreshed]));
    expect(await after.byToken(shortLived.token)).toBeUndefined();
    expect((db!.prepare('SELECT token FROM locks').all() as Array<{ token: string }>).map((r) => r.token).sort()).toEqual([longLived, forever, refreshed].map((l: ActiveLock) => l.token).sort());
    expect(await after.covering('/long/x')).toEqual([longLived]);
    await expect(acquireSpec(after, 's0:/long/x')).rejects.toThrow();
    expect((await acquireSpec(after, 'x0:/short')).root).toBe('/short');
  });
});
