/**
 * Seeded random operations against LockManager, checked after every step against a model kept
 * here with brute-force rules (lockTestKit.ts), written without the index structures under test.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ActiveLock, LockDepth, LockScope } from '../../../src/locks/activeLock';
import { ExpiryQueue } from '../../../src/locks/expiryQueue';
import { LockConflictError, LockNotFoundError } from '../../../src/locks/lockErrors';
import { LockManager, TimeoutPolicy } from '../../../src/locks/lockManager';
import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { ManualClock, bruteConflict, bruteCovers, bruteResourceSatisfied, isAtOrBelow, sortByToken } from './lockTestKit';
import { mulberry32 } from '../../support/seededRandom';

/**
 * expect(actual).toEqual(expected), at a fraction of the cost: node's deep comparison first, and
 * jest's (with its readable diff) only when they differ. Called tens of thousands of times, jest's
 * matcher machinery was most of this file's 40 s; the invariants checked are the same.
 */
function same(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

const TREE = ['/', '/a', '/a/b', '/a/b/c', '/a/d', '/ab', '/e', '/e/f'];
/** Paths that are never lock roots but are checked too: new members and a name-prefix sibling. */
const PROBES = [...TREE, '/a/b/c/new', '/ab/x', '/e/f/g/h', '/zz', '/a/bb'];

class Scenario {
  readonly clock = new ManualClock(0);
  readonly model = new Map<string, ActiveLock>();
  readonly everSeen: string[] = ['urn:uuid:never-granted'];
  readonly everSeenSet = new Set(this.everSeen);
  /** How often each operation had each outcome, to prove the random walk reaches them all. */
  readonly outcomes = new Map<string, number>();
  manager: LockManager;
  step = 0;

  constructor(readonly random: () => number, readonly db: Database.Database, readonly policy: TimeoutPolicy) {
    this.manager = this.open();
  }

  /** A manager over a state store opened on the database (again: a restart reloads what is stored). */
  open(): LockManager {
    return new LockManager(new SqliteStateStore(this.db, { clock: this.clock.read }).locks, this.policy);
  }

  storedTokens(): string[] {
    return (this.db.prepare('SELECT token FROM locks').all() as Array<{ token: string }>).map((r) => r.token).sort();
  }

  count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  active(): ActiveLock[] {
    return [...this.model.values()].filter((lock) => lock.expiresAtMs > this.clock.nowMs);
  }

  requestedTimeouts(): number[] {
    const roll = this.random();
    if (roll < 0.2) return [];
    if (roll < 0.3) return [Infinity];
    if (roll < 0.4) return [NaN, Math.floor(this.random() * 30)];
    return [Math.floor(this.random() * 60), 5];
  }

  async acquire(): Promise<void> {
    const root = this.pick(TREE);
    const scope: LockScope = this.random() < 0.5 ? 'shared' : 'exclusive';
    const depth: LockDepth = this.random() < 0.5 ? '0' : 'infinity';
    const wanted = { root, scope, depth };
    const conflicts = this.active().filter((lock) => bruteConflict(lock, wanted));
    const requestedTimeouts = this.requestedTimeouts();
    const owner = this.random() < 0.5 ? null : `<owner>${this.step}</owner>`;
    try {
      const lock = await this.manager.acquire({ ...wanted, owner, requestedTimeouts });
      same(conflicts, []);
      const granted = this.manager.grantedTimeout(requestedTimeouts);
      const expiresAtMs = Number.isFinite(granted) ? this.clock.nowMs + granted * 1000 : Infinity;
      same(lock, { ...wanted, token: lock.token, owner, timeoutSeconds: granted, expiresAtMs, createdAtMs: this.clock.nowMs });
      same(this.everSeenSet.has(lock.token), false);
      this.model.set(lock.token, lock);
      this.everSeen.push(lock.token);
      this.everSeenSet.add(lock.token);
      this.count(`acquire granted ${scope}`);
    } catch (error) {
      if (!(error instanceof LockConflictError)) throw error;
      if (!conflicts.some((c) => isDeepStrictEqual(c, error.conflicting))) expect(conflicts).toContainEqual(error.conflicting);
      this.count(`acquire conflict ${scope}`);
    }
  }

  /** Refresh or release with a random (possibly stale or bogus) token and a random path. */
  async refreshOrRelease(release: boolean): Promise<void> {
    const token = this.random() < 0.8 && this.model.size > 0 ? this.pick([...this.model.keys()]) : this.pick(this.everSeen);
    const lock = this.model.get(token);
    const path = this.random() < 0.6 && lock ? lock.root : this.pick(PROBES);
    const shouldWork = lock !== undefined && lock.expiresAtMs > this.clock.nowMs && bruteCovers(lock, path);
    const requested = this.requestedTimeouts();
    try {
      const result = release ? await this.manager.release(token, path) : await this.manager.refresh(token, path, requested);
      same(shouldWork, true);
      this.count(release ? 'release ok' : 'refresh ok');
      if (release) {
        same(result, lock);
        this.model.delete(token);
      } else {
        const granted = this.manager.grantedTimeout(requested);
        const expiresAtMs = Number.isFinite(granted) ? this.clock.nowMs + granted * 1000 : Infinity;
        same(result, { ...lock, timeoutSeconds: granted, expiresAtMs });
        this.model.set(token, result);
      }
    } catch (error) {
      if (!(error instanceof LockNotFoundError)) throw error;
      same(shouldWork, false);
      this.count(release ? 'release refused' : 'refresh refused');
    }
  }

  advanceClock(): void {
    const finite = this.active().filter((lock) => Number.isFinite(lock.expiresAtMs));
    if (finite.length > 0 && this.random() < 0.3) {
      // Land exactly on an expiry instant: the lock must be gone at that very millisecond.
      this.clock.nowMs = this.pick(finite).expiresAtMs - (this.random() < 0.5 ? 1 : 0);
    } else {
      this.clock.nowMs += Math.floor(this.random() * 8000);
    }
  }

  async removeWithin(): Promise<void> {
    const path = this.pick(PROBES);
    await this.manager.removeWithin(path);
    for (const [token, lock] of this.model) if (isAtOrBelow(lock.root, path)) this.model.delete(token);
  }

  async checkBlocking(): Promise<void> {
    const active = this.active();
    // Half the time aim at a locked path, where blocking is interesting.
    const path = active.length > 0 && this.random() < 0.5 ? this.pick(active).root : this.pick(PROBES);
    const depth: LockDepth = this.random() < 0.5 ? '0' : 'infinity';
    const submitted = new Set(active.filter(() => this.random() < 0.4).map((lock) => lock.token));
    // Resources touched: the path; with depth infinity also every tree path below it and a member
    // of each that is no lock root (members are assumed to exist).
    const resources = new Set([path]);
    if (depth === 'infinity') {
      for (const p of [path, ...PROBES.filter((q) => isAtOrBelow(q, path))]) {
        resources.add(p);
        resources.add(p === '/' ? '/~member' : `${p}/~member`);
      }
    }
    const blocked = [...resources].some(
      (resource) => !bruteResourceSatisfied(active.filter((lock) => bruteCovers(lock, resource)), submitted),
    );
    const blocking = await this.manager.blockingLock(path, depth, submitted);
    same(blocking !== null, blocked);
    this.count(`blocking ${depth} ${blocked}`);
    if (blocking) {
      if (!active.some((lock) => isDeepStrictEqual(lock, blocking))) expect(active).toContainEqual(blocking);
      same(bruteCovers(blocking, path) || (depth === 'infinity' && isAtOrBelow(blocking.root, path)), true);
    }
    if (path !== '/') {
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      const parentBlocked = !bruteResourceSatisfied(active.filter((lock) => bruteCovers(lock, parent)), submitted);
      same((await this.manager.blockingLockForChanges([], [path], submitted)) !== null, parentBlocked);
      // Both checks at once (one read of the locks, as a PUT's preconditions make them): blocked when either is.
      const both = await this.manager.blockingLockForChanges([{ path, depth }], [path], submitted);
      same(both !== null, blocked || parentBlocked);
      if (blocked) same(both, blocking);
    }
  }

  /** Compares token lists and plain facts, one expect per kind, so thousands of steps stay fast. */
  async checkInvariants(): Promise<void> {
    const now = this.clock.nowMs;
    const expected = sortByToken(this.active());
    same(sortByToken(await this.manager.within('/')), expected);
    same(this.storedTokens(), expected.map((lock) => lock.token));
    const conflicting: string[] = [];
    for (const a of expected) for (const b of expected) if (a !== b && bruteConflict(a, b)) conflicting.push(`${a.root} ${b.root}`);
    same(conflicting, []);
    const tokens = [...this.model.keys(), this.pick(this.everSeen), this.pick(this.everSeen)];
    const byTokenSeen: Array<string | null> = [];
    for (const token of tokens) byTokenSeen.push((await this.manager.byToken(token))?.token ?? null);
    const byTokenWanted = tokens.map((token) => expected.find((lock) => lock.token === token)?.token ?? null);
    same(byTokenSeen, byTokenWanted);
    const seen: Record<string, unknown> = {};
    const wanted: Record<string, unknown> = {};
    for (const path of PROBES) {
      const covering = await this.manager.covering(path);
      const depths = covering.map((lock) => (lock.root === '/' ? 0 : lock.root.split('/').length - 1));
      seen[path] = {
        covering: covering.map((lock) => lock.token).sort(),
        outermostFirst: depths.every((d, i) => i === 0 || depths[i - 1] <= d),
        within: (await this.manager.within(path)).map((lock) => lock.token).sort(),
        expired: covering.filter((lock) => lock.expiresAtMs <= now).length,
      };
      wanted[path] = {
        covering: expected.filter((lock) => bruteCovers(lock, path)).map((lock) => lock.token),
        outermostFirst: true,
        within: expected.filter((lock) => isAtOrBelow(lock.root, path)).map((lock) => lock.token),
        expired: 0,
      };
    }
    same(seen, wanted);
    // Expired locks have been checked once gone; the model forgets them (everSeen keeps the tokens).
    for (const [token, lock] of this.model) if (lock.expiresAtMs <= now) this.model.delete(token);
  }

  async run(steps: number): Promise<void> {
    for (this.step = 0; this.step < steps; this.step++) {
      const roll = this.random();
      if (roll < 0.35) await this.acquire();
      else if (roll < 0.5) await this.refreshOrRelease(false);
      else if (roll < 0.62) await this.refreshOrRelease(true);
      else if (roll < 0.8) this.advanceClock();
      else if (roll < 0.85) await this.removeWithin();
      else if (roll < 0.88) await this.manager.purgeExpired();
      else if (roll < 0.9) this.manager = this.open(); // restart
      else await this.checkBlocking();
      await this.checkInvariants();
    }
  }
}

const FINITE: TimeoutPolicy = { minSeconds: 1, maxSeconds: 40, defaultSeconds: 10 };
const UNBOUNDED: TimeoutPolicy = { minSeconds: 2, maxSeconds: Infinity, defaultSeconds: 15 };

describe('LockManager under seeded random operations', () => {
  const seeds = [1, 42, 0xdeadbeef];
  const runs: Array<[string, number, TimeoutPolicy]> = seeds.flatMap((seed) => [['finite', seed, FINITE], ['unbounded', seed, UNBOUNDED]] as Array<[string, number, TimeoutPolicy]>);
  test.each(runs)('sqlite state store, %s timeouts, seed %i', async (_name, seed, policy) => {
    const db = new Database(':memory:');
    try {
      await new Scenario(mulberry32(seed), db, policy).run(2500);
    } finally {
      db.close();
    }
  });
  test('the random walk reaches both outcomes of every operation', async () => {
    const scenario = new Scenario(mulberry32(7), new Database(':memory:'), FINITE);
    await scenario.run(1500);
    const wanted = [
      'acquire granted shared', 'acquire granted exclusive', 'acquire conflict shared', 'acquire conflict exclusive',
      'refresh ok', 'refresh refused', 'release ok', 'release refused',
      'blocking 0 true', 'blocking 0 false', 'blocking infinity true', 'blocking infinity false',
    ];
    for (const outcome of wanted) expect([outcome, scenario.outcomes.get(outcome) ?? 0]).toEqual([outcome, expect.any(Number)]);
    expect(Math.min(...wanted.map((outcome) => scenario.outcomes.get(outcome) ?? 0))).toBeGreaterThanOrEqual(10);
  });
});

describe('ExpiryQueue', () => {
  test.each([5, 9, 77])('pops due entries in time order, seed %i', (seed) => {
    const random = mulberry32(seed);
    const queue = new ExpiryQueue();
    const pushed: number[] = [];
    for (let i = 0; i < 500; i++) {
      const at = random() < 0.1 ? Infinity : Math.floor(random() * 1000);
      queue.push({ token: `t${i}`, expiresAtMs: at });
      if (Number.isFinite(at)) pushed.push(at);
    }
    expect(queue.size).toBe(pushed.length);
    const first = queue.popDue(499).map((e) => e.expiresAtMs);
    expect(first).toEqual(pushed.filter((at) => at <= 499).sort((x, y) => x - y));
    queue.rebuild([...Array(10).keys()].map((i) => ({ token: `r${i}`, expiresAtMs: 10 - i })).concat([{ token: 'inf', expiresAtMs: Infinity }]));
    expect(queue.popDue(Number.MAX_VALUE).map((e) => e.expiresAtMs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(queue.size).toBe(0);
  });
});
