/** Shared helpers for the lock tests: a settable clock, a manager over an in-memory SQLite state store, and brute-force reference rules. */
import Database from 'better-sqlite3';
import type { ActiveLock, LockDepth, LockScope } from '../../../src/locks/activeLock';
import { LockManager, TimeoutPolicy } from '../../../src/locks/lockManager';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';

export const POLICY: TimeoutPolicy = { minSeconds: 60, maxSeconds: 3600, defaultSeconds: 600 };

export class ManualClock {
  constructor(public nowMs = 1_000_000) {}
  readonly read = (): number => this.nowMs;
  advanceSeconds(seconds: number): void {
    this.nowMs += seconds * 1000;
  }
}

/** A LockManager over the lock records of a fresh SQLite state store in memory, on a manual clock. */
export function newManager(policy: TimeoutPolicy = POLICY, clock = new ManualClock(), db = new Database(':memory:')) {
  const state = new SqliteStateStore(db, { clock: clock.read });
  const manager = new LockManager(state.locks, policy);
  /** The rows of the locks table, as stored (roots and tokens), whatever the index says. */
  const storedTokens = (): string[] => (db.prepare('SELECT token FROM locks ORDER BY token').all() as Array<{ token: string }>).map((r) => r.token);
  const storedRoots = (): string[] => (db.prepare('SELECT root FROM locks ORDER BY root').all() as Array<{ root: string }>).map((r) => r.root);
  return { clock, manager, state, db, storedTokens, storedRoots };
}

export interface LockSpec {
  root: string;
  scope: LockScope;
  depth: LockDepth;
}

/** Short notation for tables: 'x0:/a' = exclusive depth 0 on /a, 'si:/a' = shared depth infinity. */
export function spec(text: string): LockSpec {
  const match = /^([xs])([0i]):(\/.*)$/.exec(text);
  if (!match) throw new Error(`bad lock spec ${text}`);
  return {
    scope: match[1] === 'x' ? 'exclusive' : 'shared',
    depth: match[2] === '0' ? '0' : 'infinity',
    root: match[3],
  };
}

export function acquireSpec(manager: LockManager, text: string, timeouts: number[] = []): Promise<ActiveLock> {
  return manager.acquire({ ...spec(text), owner: null, requestedTimeouts: timeouts });
}

/** Reference rules written independently of src/locks (string prefix tests, no helpers shared). */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path === ancestor || path.startsWith(ancestor + '/');
}

export function bruteCovers(lock: { root: string; depth: LockDepth }, path: string): boolean {
  return lock.root === path || (lock.depth === 'infinity' && isAtOrBelow(path, lock.root));
}

export function bruteConflict(a: LockSpec, b: LockSpec): boolean {
  if (a.scope === 'shared' && b.scope === 'shared') return false;
  const aOverB = bruteCovers(a, b.root) || (b.depth === 'infinity' && isAtOrBelow(a.root, b.root));
  return aOverB;
}

/** Whether one resource covered by `locks` may be written with `submitted` (see lockSubmission.ts). */
export function bruteResourceSatisfied(locks: readonly ActiveLock[], submitted: ReadonlySet<string>): boolean {
  const shared = locks.filter((l) => l.scope === 'shared');
  const exclusive = locks.filter((l) => l.scope === 'exclusive');
  if (exclusive.some((l) => !submitted.has(l.token))) return false;
  return shared.length === 0 || shared.some((l) => submitted.has(l.token));
}

export function sortByToken(locks: readonly ActiveLock[]): ActiveLock[] {
  return [...locks].sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
}
