/**
 * The lock policy of RFC 4918 §6, §7, §9.10 and §9.11 over a LockStore, with the clock injected.
 *
 * Every call is synchronous: a conflict check and the store write that follows it are never split
 * by another request. The store is read once, at construction; after that an in-memory index
 * (LockTree by root path, a map by token, an expiry heap) answers every question, and every
 * change is written to the store before the index, so a failing store leaves the index unchanged.
 *
 * Expiry (RFC 4918 §6.6): a lock whose expiresAtMs <= clock() no longer exists for any method.
 * Each public method first purges what has expired by then (from the store as well), so nothing
 * it answers from the index can be expired.
 */
import { DavPath, parentOf } from '../paths/davPath';
import {
  ActiveLock,
  LockDepth,
  LockScope,
  assertDavPath,
  isLockActive,
  isLockDepth,
  isLockScope,
  lockCovers,
  newLockToken,
  wouldConflict,
} from './activeLock';
import { ExpiryQueue } from './expiryQueue';
import { LockConflictError, LockNotFoundError } from './lockErrors';
import type { LockStore } from './lockStore';
import { firstUnsatisfiedLock } from './lockSubmission';
import { LockTree } from './lockTree';
import { TimeoutPolicy, assertTimeoutPolicy, expiryOf, grantTimeout } from './timeoutPolicy';

export type { TimeoutPolicy } from './timeoutPolicy';

export interface LockRequest {
  root: DavPath;
  scope: LockScope;
  depth: LockDepth;
  owner: string | null;
  /** The signed-in user taking the lock; null or absent when anonymous (RFC 4918 §6.4). */
  principal?: string | null;
  /** The Timeout header's values in seconds, in the client's order (Infinity for Infinite). */
  requestedTimeouts: readonly number[];
}

/** Stale heap entries are dropped once they outnumber live locks by this much. */
const EXPIRY_QUEUE_SLACK = 64;

export class LockManager {
  private readonly tree = new LockTree();
  private readonly tokens = new Map<string, ActiveLock>();
  private readonly expiries = new ExpiryQueue();

  /**
   * Loads every lock from `store` once and removes the expired ones from it. Throws RangeError
   * for an invalid policy or a clock that returns no finite number; store errors propagate.
   */
  constructor(
    private readonly store: LockStore,
    private readonly clock: () => number,
    private readonly policy: TimeoutPolicy,
  ) {
    assertTimeoutPolicy(policy);
    const now = this.now();
    const expired: string[] = [];
    for (const lock of store.loadAll()) {
      if (isLockActive(lock, now)) this.index(Object.freeze({ ...lock }));
      else expired.push(lock.token);
    }
    if (expired.length > 0) store.remove(expired);
  }

  /** Returns the timeout to grant for these requested values (see grantTimeout, RFC 4918 §10.7). */
  grantedTimeout(requested: readonly number[]): number {
    return grantTimeout(this.policy, requested);
  }

  /**
   * Creates a lock and returns it. Throws LockConflictError naming the first active lock in the
   * way (RFC 4918 §9.10.3 and §6.1-§6.2, see wouldConflict), BadPathError for a malformed root,
   * RangeError for an unknown scope or depth.
   */
  acquire(req: LockRequest): ActiveLock {
    assertDavPath(req.root);
    if (!isLockScope(req.scope)) throw new RangeError(`unknown lock scope ${String(req.scope)}`);
    if (!isLockDepth(req.depth)) throw new RangeError(`unknown lock depth ${String(req.depth)}`);
    const now = this.purgeUntilNow();
    const conflicting = this.findConflict(req.root, req.depth, req.scope);
    if (conflicting) throw new LockConflictError(conflicting);
    const timeoutSeconds = this.grantedTimeout(req.requestedTimeouts);
    let token = newLockToken();
    while (this.tokens.has(token)) token = newLockToken();
    const lock: ActiveLock = Object.freeze({
      token,
      root: req.root,
      scope: req.scope,
      depth: req.depth,
      owner: req.owner ?? null,
      ...(typeof req.principal === 'string' ? { principal: req.principal } : {}),
      timeoutSeconds,
      expiresAtMs: expiryOf(now, timeoutSeconds),
      createdAtMs: now,
    });
    this.store.save(lock);
    this.index(lock);
    return lock;
  }

  /**
   * Restarts the lock's timeout from now with a newly granted one (RFC 4918 §9.10.2); token,
   * root, scope, depth and owner stay. Returns the refreshed lock. Throws LockNotFoundError
   * unless `token` names an active lock covering `path`.
   */
  refresh(token: string, path: DavPath, requestedTimeouts: readonly number[]): ActiveLock {
    const now = this.purgeUntilNow();
    const lock = this.requireLock(token, path);
    const timeoutSeconds = this.grantedTimeout(requestedTimeouts);
    const refreshed: ActiveLock = Object.freeze({ ...lock, timeoutSeconds, expiresAtMs: expiryOf(now, timeoutSeconds) });
    this.store.save(refreshed);
    this.index(refreshed);
    return refreshed;
  }

  /**
   * Removes the lock and returns it (UNLOCK, RFC 4918 §9.11: the Request-URI may be any resource
   * the lock covers). Throws LockNotFoundError unless `token` names an active lock covering `path`.
   */
  release(token: string, path: DavPath): ActiveLock {
    this.purgeUntilNow();
    const lock = this.requireLock(token, path);
    this.store.remove([lock.token]);
    this.unindex(lock);
    return lock;
  }

  /** Returns the active lock with this token, or undefined. */
  byToken(token: string): ActiveLock | undefined {
    this.purgeUntilNow();
    return this.tokens.get(token);
  }

  /** Returns the active locks that apply to `path`: rooted at it, or depth-infinity at an ancestor; outermost first. */
  covering(path: DavPath): ActiveLock[] {
    this.purgeUntilNow();
    return this.tree.covering(path);
  }

  /** Returns the active locks rooted at `path` or anywhere below it (within('/') lists them all). */
  within(path: DavPath): ActiveLock[] {
    this.purgeUntilNow();
    return this.tree.within(path);
  }

  /**
   * Returns the first lock whose token was not submitted and that forbids modifying `path` (and,
   * when `depth` is 'infinity', anything below it, e.g. DELETE/MOVE of a collection); null when
   * the write may go on. Token rule: see firstUnsatisfiedLock (one shared token satisfies the
   * shared locks on a resource; each exclusive lock needs its own). A new member of a
   * depth-infinity locked collection is covered by that lock (RFC 4918 §7.4), so callers pass the
   * new path. Pass depth '0' for a non-collection: with 'infinity' members are assumed to exist.
   */
  blockingLock(path: DavPath, depth: LockDepth, submittedTokens: ReadonlySet<string>): ActiveLock | null {
    this.purgeUntilNow();
    const onPath = this.tree.covering(path);
    const blocking = firstUnsatisfiedLock(onPath, submittedTokens);
    if (blocking || depth === '0') return blocking;
    // Depth infinity (RFC 4918 §9.6.1, §9.9.2): each member has its own set of covering locks.
    // The distinct sets are the ones at each lock root below `path`, and, for members that are no
    // lock root, the depth-infinity locks over their nearest ancestor among `path` and those roots.
    const roots = new Set<DavPath>([path]);
    for (const lock of this.tree.within(path)) roots.add(lock.root);
    for (const root of roots) {
      const onRoot = root === path ? onPath : this.tree.covering(root);
      const inherited = onRoot.filter((lock) => lock.depth === 'infinity');
      const found = firstUnsatisfiedLock(onRoot, submittedTokens) ?? firstUnsatisfiedLock(inherited, submittedTokens);
      if (found) return found;
    }
    return null;
  }

  /**
   * Returns the first lock that forbids adding or removing `path` as a member of its parent
   * collection, or null. RFC 4918 §7.4: a write lock on a collection, depth 0 or infinity,
   * prevents adding or removing member URLs by non-lock-owners, so this is a depth-0 write to the
   * parent. For PUT (create), MKCOL, DELETE, MOVE (both ends), COPY (destination). The root has
   * no parent: null.
   */
  blockingLockForMembershipChange(path: DavPath, submittedTokens: ReadonlySet<string>): ActiveLock | null {
    const parent = parentOf(path);
    return parent === null ? null : this.blockingLock(parent, '0', submittedTokens);
  }

  /**
   * Removes every lock rooted at `path` or below it: the resources are gone (DELETE, MOVE
   * source; RFC 4918 §7.6: a lock does not move with its resource).
   */
  removeWithin(path: DavPath): void {
    this.purgeUntilNow();
    const doomed = this.tree.within(path);
    if (doomed.length === 0) return;
    this.store.remove(doomed.map((lock) => lock.token));
    this.tree.detachWithin(path);
    for (const lock of doomed) this.tokens.delete(lock.token);
  }

  /** Removes every expired lock from the index and the store. */
  purgeExpired(): void {
    this.purgeUntilNow();
  }

  private now(): number {
    const now = this.clock();
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError('the lock clock returned no finite time');
    return now;
  }

  /** Purges what has expired at clock() and returns that instant. */
  private purgeUntilNow(): number {
    const now = this.now();
    const due = this.expiries.popDue(now);
    if (due.length === 0) return now;
    const expired = new Map<string, ActiveLock>();
    for (const entry of due) {
      const lock = this.tokens.get(entry.token);
      // Stale entries (released, or refreshed to another expiry) are skipped.
      if (lock && lock.expiresAtMs === entry.expiresAtMs) expired.set(lock.token, lock);
    }
    if (expired.size === 0) return now;
    try {
      this.store.remove([...expired.keys()]);
    } catch (error) {
      for (const entry of due) this.expiries.push(entry);
      throw error;
    }
    for (const lock of expired.values()) this.unindex(lock);
    return now;
  }

  private findConflict(root: DavPath, depth: LockDepth, scope: LockScope): ActiveLock | undefined {
    const nearby = this.tree.covering(root);
    if (depth === 'infinity') nearby.push(...this.tree.within(root).filter((lock) => lock.root !== root));
    return nearby.find((lock) => wouldConflict(lock, root, depth, scope));
  }

  private requireLock(token: string, path: DavPath): ActiveLock {
    const lock = this.tokens.get(token);
    if (!lock) throw new LockNotFoundError(token, path, 'unknown-token');
    if (!lockCovers(lock, path)) throw new LockNotFoundError(token, path, 'not-covering');
    return lock;
  }

  /** Adds (or replaces, same token) a lock in every in-memory index. */
  private index(lock: ActiveLock): void {
    this.tokens.set(lock.token, lock);
    this.tree.add(lock);
    this.expiries.push({ token: lock.token, expiresAtMs: lock.expiresAtMs });
    if (this.expiries.size > 2 * this.tokens.size + EXPIRY_QUEUE_SLACK) {
      this.expiries.rebuild([...this.tokens.values()].map(({ token, expiresAtMs }) => ({ token, expiresAtMs })));
    }
  }

  private unindex(lock: ActiveLock): void {
    this.tokens.delete(lock.token);
    this.tree.delete(lock.root, lock.token);
  }
}
