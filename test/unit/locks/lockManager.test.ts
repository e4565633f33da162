import { BadPathError } from '../../../src/paths/davPath';
import type { ActiveLock } from '../../../src/locks/activeLock';
import { LockConflictError, LockNotFoundError } from '../../../src/locks/lockErrors';
import { LockManager, TimeoutPolicy } from '../../../src/locks/lockManager';
import { ManualClock, POLICY, acquireSpec, newManager, spec } from './lockTestKit';

describe('LockManager.acquire conflicts (RFC 4918 §6.1, §6.2, §9.10.3)', () => {
  // existing locks, requested lock, root of the expected conflicting lock (null: granted)
  const cases: Array<[string, string[], string, string | null]> = [
    ['exclusive vs exclusive, same resource', ['x0:/a'], 'x0:/a', '/a'],
    ['exclusive blocks a shared request', ['x0:/a'], 's0:/a', '/a'],
    ['shared blocks an exclusive request', ['s0:/a'], 'x0:/a', '/a'],
    ['two shared locks coexist', ['s0:/a'], 's0:/a', null],
    ['three shared locks coexist, depth mixed', ['s0:/a', 'si:/a'], 'si:/a', null],
    ['depth-0 lock does not cover a member', ['x0:/a'], 'x0:/a/b', null],
    ['depth-infinity ancestor covers a member', ['xi:/a'], 's0:/a/b', '/a'],
    ['depth-infinity ancestor covers a deep member', ['xi:/a'], 'x0:/a/b/c/d', '/a'],
    ['shared infinity ancestor vs shared member lock', ['si:/a'], 'si:/a/b/c', null],
    ['shared infinity ancestor vs exclusive member lock', ['si:/a'], 'x0:/a/b', '/a'],
    ['new depth-infinity meets an exclusive lock below', ['x0:/a/b'], 'xi:/', '/a/b'],
    ['new depth-0 ignores locks below', ['x0:/a/b'], 'x0:/', null],
    ['new depth-0 exclusive on a locked collection member parent', ['x0:/a/b'], 'x0:/a', null],
    ['new shared infinity over shared locks below', ['s0:/a/b', 'si:/a/c'], 'si:/', null],
    ['new exclusive infinity over a shared lock below', ['s0:/a/b'], 'xi:/a', '/a/b'],
    ['new shared infinity over an exclusive lock below', ['x0:/a/b'], 'si:/a', '/a/b'],
    ['a name prefix is not an ancestor (below)', ['x0:/ab'], 'xi:/a', null],
    ['a name prefix is not an ancestor (above)', ['xi:/a'], 'x0:/ab', null],
    ['root depth-infinity lock covers everything', ['xi:/'], 's0:/z/y', '/'],
    ['first conflicting lock is the outermost', ['xi:/a/b', 's0:/c'], 'xi:/', '/a/b'],
    ['siblings do not meet', ['xi:/a/b'], 'xi:/a/c', null],
  ];
  test.each(cases)('%s', async (_name, existing, requested, expectedRoot) => {
    const { manager } = newManager();
    for (const text of existing) await acquireSpec(manager, text);
    const attempt = () => acquireSpec(manager, requested);
    if (expectedRoot === null) {
      expect((await attempt()).root).toBe(spec(requested).root);
    } else {
      let caught: unknown;
      try {
        await attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LockConflictError);
      expect((caught as LockConflictError).conflicting.root).toBe(expectedRoot);
      expect((await manager.within('/'))).toHaveLength(existing.length);
    }
  });
});

describe('LockManager.covering and within', () => {
  const scene = newManager().manager;
  beforeAll(async () => {
    for (const text of ['si:/a', 's0:/a/b/c', 's0:/d', 'si:/d', 'x0:/ab', 'xi:/e/f']) await acquireSpec(scene, text);
  });
  // path, roots of covering(path) in order, roots of within(path) sorted
  const cases: Array<[string, string[], string[]]> = [
    ['/', [], ['/a', '/a/b/c', '/ab', '/d', '/d', '/e/f']],
    ['/a', ['/a'], ['/a', '/a/b/c']],
    ['/a/b', ['/a'], ['/a/b/c']],
    ['/a/b/c', ['/a', '/a/b/c'], ['/a/b/c']],
    ['/a/b/c/new', ['/a'], []],
    ['/ab', ['/ab'], ['/ab']],
    ['/ab/x', [], []],
    ['/d', ['/d', '/d'], ['/d', '/d']],
    ['/d/x', ['/d'], []],
    ['/e', [], ['/e/f']],
    ['/e/f/g/h', ['/e/f'], []],
    ['/nowhere', [], []],
    ['/a/b/c/d/e/f/g', ['/a'], []],
  ];
  test.each(cases)('covering(%s) and within', async (path, coveringRoots, withinRoots) => {
    expect((await scene.covering(path)).map((l) => l.root)).toEqual(coveringRoots);
    expect((await scene.within(path)).map((l) => l.root).sort()).toEqual(withinRoots);
  });

  test('covering lists the outermost root first', async () => {
    const { manager } = newManager();
    for (const text of ['s0:/p/q/r', 'si:/p/q', 'si:/', 'si:/p']) (await acquireSpec(manager, text));
    expect((await manager.covering('/p/q/r')).map((l) => l.root)).toEqual(['/', '/p', '/p/q', '/p/q/r']);
    expect((await manager.covering('/p/q/r/s')).map((l) => l.root)).toEqual(['/', '/p', '/p/q']);
  });

  test('segment names that are Object.prototype members are ordinary names', async () => {
    const { manager } = newManager();
    (await acquireSpec(manager, 'xi:/__proto__'));
    (await acquireSpec(manager, 'x0:/constructor/toString'));
    expect((await manager.covering('/__proto__/x')).map((l) => l.root)).toEqual(['/__proto__']);
    expect((await manager.covering('/constructor'))).toEqual([]);
    expect((await manager.within('/constructor')).map((l) => l.root)).toEqual(['/constructor/toString']);
  });
});

describe('timeouts (RFC 4918 §10.7, §6.6)', () => {
  const cases: Array<[string, TimeoutPolicy, number[], number]> = [
    ['none requested: default', POLICY, [], 600],
    ['below min', POLICY, [10], 60],
    ['zero', POLICY, [0], 60],
    ['within bounds', POLICY, [120], 120],
    ['above max', POLICY, [100000], 3600],
    ['Infinite, finite max', POLICY, [Infinity], 3600],
    ['only the first counts', POLICY, [120, 30], 120],
    ['NaN is skipped', POLICY, [NaN, 300], 300],
    ['negative is skipped', POLICY, [-5, 300], 300],
    ['nothing usable: default', POLICY, [-1, NaN], 600],
    ['fractions round down', POLICY, [90.7], 90],
    ['Infinite allowed', { minSeconds: 1, maxSeconds: Infinity, defaultSeconds: 60 }, [Infinity], Infinity],
    ['Infinite default', { minSeconds: 1, maxSeconds: Infinity, defaultSeconds: Infinity }, [], Infinity],
  ];
  test.each(cases)('%s', async (_name, policy, requested, granted) => {
    const { manager, clock } = newManager(policy);
    expect(manager.grantedTimeout(requested)).toBe(granted);
    const lock = (await manager.acquire({ root: '/t', scope: 'exclusive', depth: '0', owner: null, requestedTimeouts: requested }));
    expect(lock.timeoutSeconds).toBe(granted);
    expect(lock.expiresAtMs).toBe(Number.isFinite(granted) ? clock.nowMs + granted * 1000 : Infinity);
  });

  test.each<[string, TimeoutPolicy]>([
    ['zero minimum', { minSeconds: 0, maxSeconds: 10, defaultSeconds: 5 }],
    ['negative minimum', { minSeconds: -1, maxSeconds: 10, defaultSeconds: 5 }],
    ['infinite minimum', { minSeconds: Infinity, maxSeconds: Infinity, defaultSeconds: Infinity }],
    ['default below min', { minSeconds: 10, maxSeconds: 100, defaultSeconds: 5 }],
    ['default above max', { minSeconds: 10, maxSeconds: 100, defaultSeconds: 500 }],
    ['max below min', { minSeconds: 10, maxSeconds: 5, defaultSeconds: 7 }],
    ['NaN', { minSeconds: 10, maxSeconds: NaN, defaultSeconds: 20 }],
  ])('an invalid policy is refused: %s', async (_name, policy) => {
    expect(() => new LockManager(newManager().state.locks, policy)).toThrow(RangeError);
  });
});

describe('acquire input and result', () => {
  test('a granted lock has a urn:uuid v4 token, the request fields and timestamps', async () => {
    const { manager, clock } = newManager();
    const lock = (await manager.acquire({ root: '/doc', scope: 'shared', depth: 'infinity', owner: '<D:owner>me</D:owner>', requestedTimeouts: [180] }));
    expect(lock.token).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lock).toEqual({
      token: lock.token, root: '/doc', scope: 'shared', depth: 'infinity', owner: '<D:owner>me</D:owner>',
      timeoutSeconds: 180, expiresAtMs: clock.nowMs + 180_000, createdAtMs: clock.nowMs,
    });
    expect((await manager.byToken(lock.token))).toEqual(lock);
    expect((await acquireSpec(manager, 's0:/doc')).token).not.toBe(lock.token);
  });

  test('returned locks cannot be altered by the caller', async () => {
    const { manager } = newManager();
    const lock = (await acquireSpec(manager, 'x0:/a'));
    expect(() => { (lock as { root: string }).root = '/b'; }).toThrow(TypeError);
    expect((await manager.covering('/a'))).toHaveLength(1);
  });

  test.each(['', 'a', '/a/', '/a//b', '/a/../b', '/./a', '/a\u0000b', '/a\\b', `/${'x'.repeat(256)}`])(
    'a malformed root %j is refused with BadPathError and nothing is stored',
    async (root) => {
      const { manager, storedTokens } = newManager();
      await expect(manager.acquire({ root, scope: 'exclusive', depth: '0', owner: null, requestedTimeouts: [] })).rejects.toThrow(BadPathError);
      expect(storedTokens()).toEqual([]);
    },
  );

  test.each([
    ['scope', { scope: 'write', depth: '0' }],
    ['depth', { scope: 'shared', depth: '1' }],
  ])('an unknown %s is refused with RangeError', async (_name, fields) => {
    const { manager } = newManager();
    const request = { root: '/a', owner: null, requestedTimeouts: [], ...fields } as unknown as Parameters<LockManager['acquire']>[0];
    await expect(manager.acquire(request)).rejects.toThrow(RangeError);
    expect((await manager.within('/'))).toEqual([]);
  });

  test('a clock that returns no number is refused', async () => {
    expect(() => newManager(POLICY, new ManualClock(NaN))).toThrow(RangeError);
    const clock = new ManualClock(0);
    const { manager } = newManager(POLICY, clock);
    clock.nowMs = Infinity;
    await expect(manager.covering('/')).rejects.toThrow(RangeError);
  });
});

describe('refresh and release (RFC 4918 §9.10.2, §9.11)', () => {
  test('refresh restarts the timeout from now and keeps the rest', async () => {
    const { manager, clock } = newManager();
    const lock = (await manager.acquire({ root: '/a', scope: 'exclusive', depth: 'infinity', owner: 'o', requestedTimeouts: [100] }));
    clock.advanceSeconds(90);
    const refreshed = (await manager.refresh(lock.token, '/a/deep/member', [300]));
    expect(refreshed).toEqual({ ...lock, timeoutSeconds: 300, expiresAtMs: clock.nowMs + 300_000 });
    clock.advanceSeconds(299);
    expect((await manager.byToken(lock.token))).toEqual(refreshed);
    clock.advanceSeconds(1);
    expect((await manager.byToken(lock.token))).toBeUndefined();
  });

  const refused: Array<[string, string, string, 'unknown-token' | 'not-covering']> = [
    ['unknown token', 'bogus', '/a', 'unknown-token'],
    ['depth-0 lock, path below', 'x0:/a', '/a/b', 'not-covering'],
    ['path above the root', 'xi:/a/b', '/a', 'not-covering'],
    ['sibling path', 'xi:/a', '/ab', 'not-covering'],
  ];
  test.each(refused)('refresh and release refuse: %s', async (_name, lockText, path, reason) => {
    const { manager } = newManager();
    const token = lockText === 'bogus' ? 'urn:uuid:bogus' : (await acquireSpec(manager, lockText)).token;
    for (const attempt of [() => manager.refresh(token, path, []), () => manager.release(token, path)]) {
      let caught: unknown;
      try {
        await attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LockNotFoundError);
      expect((caught as LockNotFoundError).reason).toBe(reason);
    }
    if (lockText !== 'bogus') expect((await manager.byToken(token))).toBeDefined();
  });

  test('release removes the lock; a second release finds nothing', async () => {
    const { manager, storedTokens } = newManager();
    const lock = (await acquireSpec(manager, 'xi:/a'));
    expect((await manager.release(lock.token, '/a/x'))).toEqual(lock);
    expect((await manager.byToken(lock.token))).toBeUndefined();
    expect(storedTokens()).toEqual([]);
    await expect(manager.release(lock.token, '/a')).rejects.toThrow(LockNotFoundError);
    expect((await acquireSpec(manager, 'x0:/a')).root).toBe('/a');
  });
});

describe('expiry (RFC 4918 §6.6) with an injected clock', () => {
  test('a lock exists until, and not at, its expiry instant, for every method', async () => {
    const { manager, clock, storedTokens } = newManager();
    const lock = (await acquireSpec(manager, 'xi:/a', [60]));
    clock.nowMs = lock.expiresAtMs - 1;
    expect((await manager.covering('/a/b'))).toEqual([lock]);
    expect((await manager.blockingLock('/a', '0', new Set()))).toEqual(lock);
    clock.nowMs = lock.expiresAtMs;
    expect((await manager.byToken(lock.token))).toBeUndefined();
    expect((await manager.covering('/a/b'))).toEqual([]);
    expect((await manager.within('/'))).toEqual([]);
    expect((await manager.blockingLock('/a', 'infinity', new Set()))).toBeNull();
    expect((await manager.blockingLockForChanges([], ['/a/x'], new Set()))).toBeNull();
    await expect(manager.refresh(lock.token, '/a', [])).rejects.toThrow(LockNotFoundError);
    await expect(manager.release(lock.token, '/a')).rejects.toThrow(LockNotFoundError);
    expect(storedTokens()).toEqual([]);
    expect((await acquireSpec(manager, 'x0:/a/b')).root).toBe('/a/b');
  });

  test('a manager loading the store at the exact expiry instant does not load the lock', async () => {
    const { manager, clock, db, storedTokens } = newManager();
    const lock = (await acquireSpec(manager, 'x0:/a', [60]));
    clock.nowMs = lock.expiresAtMs - 1;
    expect(await newManager(POLICY, clock, db).manager.byToken(lock.token)).toEqual(lock);
    clock.nowMs = lock.expiresAtMs;
    const reloaded = newManager(POLICY, clock, db);
    expect(storedTokens()).toEqual([]);
    expect(await reloaded.manager.byToken(lock.token)).toBeUndefined();
  });

  test('expired locks are purged from the store lazily, only once due', async () => {
    const { manager, clock, state, storedTokens } = newManager();
    const short = (await acquireSpec(manager, 's0:/a', [60]));
    const long = (await acquireSpec(manager, 's0:/a', [120]));
    const forever = new LockManager(state.locks, { minSeconds: 1, maxSeconds: Infinity, defaultSeconds: Infinity });
    const eternal = (await acquireSpec(forever, 's0:/b'));
    clock.advanceSeconds(61);
    expect(storedTokens()).toEqual([short.token, long.token, eternal.token].sort());
    (await manager.purgeExpired());
    expect(storedTokens()).toEqual([long.token, eternal.token].sort());
    clock.advanceSeconds(1e9);
    (await forever.purgeExpired());
    expect(storedTokens()).toEqual([eternal.token]);
  });

  test('a lock refreshed after its old expiry was queued is not purged at the old instant', async () => {
    const { manager, clock } = newManager();
    const lock = (await acquireSpec(manager, 'x0:/a', [60]));
    clock.advanceSeconds(30);
    (await manager.refresh(lock.token, '/a', [60]));
    clock.advanceSeconds(45);
    expect((await manager.byToken(lock.token))?.expiresAtMs).toBe(clock.nowMs + 15_000);
    clock.advanceSeconds(15);
    expect((await manager.byToken(lock.token))).toBeUndefined();
  });
});

describe('removeWithin (DELETE, MOVE source; RFC 4918 §7.6)', () => {
  test.each<[string, string[], string, string[]]>([
    ['the subtree goes, a name prefix stays', ['x0:/a', 'x0:/a/b/c', 'x0:/ab', 'x0:/z'], '/a', ['/ab', '/z']],
    ['a leaf', ['x0:/a', 'x0:/a/b/c'], '/a/b/c', ['/a']],
    ['the root removes everything', ['x0:/a', 's0:/b', 's0:/b'], '/', []],
    ['an unlocked path removes nothing', ['x0:/a'], '/q', ['/a']],
    ['ancestor locks stay', ['si:/a', 's0:/a/b'], '/a/b', ['/a']],
  ])('%s', async (_name, locks, path, remaining) => {
    const { manager, storedRoots } = newManager();
    for (const text of locks) (await acquireSpec(manager, text));
    (await manager.removeWithin(path));
    expect((await manager.within('/')).map((l) => l.root).sort()).toEqual(remaining);
    expect(storedRoots()).toEqual(remaining);
    for (const text of locks) {
      const root = spec(text).root;
      if (!remaining.includes(root)) expect((await manager.covering(root)).filter((l) => l.root === root)).toEqual([]);
    }
  });
});

describe('a failing store leaves the lock index unchanged', () => {
  /**
   * Expects `promise` to reject with a message matching `pattern`. Not `rejects.toThrow`: better-sqlite3
   * builds its errors with the SqliteError class of the first test file a jest worker loaded it in,
   * another realm's Error, which toThrow does not recognise as thrown.
   */
  async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
    const outcome = await promise.then(() => 'resolved', (err: unknown) => String((err as Error)?.message));
    expect(outcome).toMatch(pattern);
  }
  /** Makes every write to the database fail (SQLITE_READONLY), as a read-only or lost disk would. */
  function failWrites(db: import('better-sqlite3').Database, failing: boolean): void {
    db.pragma(`query_only = ${failing ? 1 : 0}`);
  }
  test('acquire, refresh, release, removeWithin and purge', async () => {
    const { manager, clock, db, storedTokens } = newManager();
    const lock = (await acquireSpec(manager, 'xi:/a', [60]));
    failWrites(db, true);
    await rejectsWith(acquireSpec(manager, 'x0:/b'), /readonly/);
    expect((await manager.covering('/b'))).toEqual([]);
    await rejectsWith(manager.refresh(lock.token, '/a', [600]), /readonly/);
    expect((await manager.byToken(lock.token))).toEqual(lock);
    await rejectsWith(manager.release(lock.token, '/a'), /readonly/);
    await rejectsWith(manager.removeWithin('/'), /readonly/);
    expect((await manager.covering('/a/x'))).toEqual([lock]);
    clock.advanceSeconds(60);
    await rejectsWith(manager.purgeExpired(), /readonly/);
    failWrites(db, false);
    expect((await manager.covering('/a/x'))).toEqual([]);
    expect(storedTokens()).toEqual([]);
  });
});
