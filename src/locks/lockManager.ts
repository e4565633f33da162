/**
 * The lock policy of RFC 4918 §6, §7, §9.10 and §9.11 over the state store's lock records
 * (StateStore.locks): timeouts (TimeoutPolicy), tokens, which lock a request must name, and
 * which lock blocks a write. The records hold the data and make the conflict check and the
 * insert one atomic step (LockRecords.insertUnlessConflicting); expiry (RFC 4918 §6.6) is judged
 * by the store's clock, so nothing the records answer is expired.
 */
import { DavPath, parentOf, segmentsOf } from '../paths/davPath';
import { ActiveLock, LockDepth, LockScope, assertDavPath, isLockDepth, isLockScope, lockCovers, newLockToken } from './activeLock';
import { LockConflictError, LockNotFoundError } from './lockErrors';
import { firstUnsatisfiedLock } from './lockSubmission';
import { TimeoutPolicy, assertTimeoutPolicy, grantTimeout } from './timeoutPolicy';
import type { LockRecords, NewLock, PathClaim } from '../state/stateStore';

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

export class LockManager {
  /** Throws RangeError for an invalid policy. */
  constructor(
    private readonly records: LockRecords,
    private readonly policy: TimeoutPolicy,
  ) {
    assertTimeoutPolicy(policy);
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
  async acquire(req: LockRequest): Promise<ActiveLock> {
    const outcome = await this.records.insertUnlessConflicting(this.newLock(req));
    if (outcome.conflict) throw new LockConflictError(outcome.conflict);
    return outcome.granted;
  }

  /**
   * As acquire, but only while no write claim meets `claims` (LockRecords.insertUnlessClaimedOrConflicting):
   * null when one does (nothing stored; the caller claims and calls acquire).
   */
  async acquireUnlessClaimed(req: LockRequest, claims: readonly PathClaim[]): Promise<ActiveLock | null> {
    const outcome = await this.records.insertUnlessClaimedOrConflicting(this.newLock(req), claims);
    if (outcome.conflict) throw new LockConflictError(outcome.conflict);
    return outcome.granted ?? null;
  }

  /** The lock `req` asks for, with a new token and the granted timeout; RangeError for a bad scope or depth. */
  private newLock(req: LockRequest): NewLock {
    assertDavPath(req.root);
    if (!isLockScope(req.scope)) throw new RangeError(`unknown lock scope ${String(req.scope)}`);
    if (!isLockDepth(req.depth)) throw new RangeError(`unknown lock depth ${String(req.depth)}`);
    return {
      token: newLockToken(),
      root: req.root,
      scope: req.scope,
      depth: req.depth,
      owner: req.owner ?? null,
      ...(typeof req.principal === 'string' ? { principal: req.principal } : {}),
      timeoutSeconds: this.grantedTimeout(req.requestedTimeouts),
    };
  }

  /**
   * Restarts the lock's timeout from now with a newly granted one (RFC 4918 §9.10.2); token,
   * root, scope, depth and owner stay. Returns the refreshed lock. Throws LockNotFoundError
   * unless `token` names an active lock covering `path`.
   */
  async refresh(token: string, path: DavPath, requestedTimeouts: readonly number[]): Promise<ActiveLock> {
    await this.requireLock(token, path);
    const refreshed = await this.records.refresh(token, this.grantedTimeout(requestedTimeouts));
    if (!refreshed) throw new LockNotFoundError(token, path, 'unknown-token');
    return refreshed;
  }

  /**
   * Removes the lock and returns it (UNLOCK, RFC 4918 §9.11: the Request-URI may be any resource
   * the lock covers). Throws LockNotFoundError unless `token` names an active lock covering `path`.
   */
  async release(token: string, path: DavPath, known?: ActiveLock): Promise<ActiveLock> {
    // `known`: the caller's own byToken answer for `token` (a lock's root never changes, and the
    // delete below checks the token is still active), which spares a second read.
    if (known?.token === token) requireCovering(known, token, path);
    else await this.requireLock(token, path);
    const released = await this.records.release(token);
    if (!released) throw new LockNotFoundError(token, path, 'unknown-token');
    return released;
  }

  /**
   * Removes the lock `token` when it covers `path` and `principal` took it (null: anonymous), in
   * one step, and returns it; null otherwise (nothing changes: `release` then tells why).
   */
  releaseOwned(token: string, path: DavPath, principal: string | null): Promise<ActiveLock | null> {
    return this.records.releaseOwned(token, path, principal);
  }

  /** Returns the active lock with this token, or undefined. */
  async byToken(token: string): Promise<ActiveLock | undefined> {
    return (await this.records.byToken(token)) ?? undefined;
  }

  /** Returns the active locks that apply to `path`: rooted at it, or depth-infinity at an ancestor; outermost first. */
  covering(path: DavPath): Promise<ActiveLock[]> {
    return this.records.covering(path);
  }

  /** covering() of each of `paths`, in one step of the store (a listing's batch of members); in `paths`' order. */
  coveringEach(paths: readonly DavPath[]): Promise<ActiveLock[][]> {
    return this.records.coveringEach(paths);
  }

  /** Returns the active locks rooted at `path` or anywhere below it (within('/') lists them all). */
  within(path: DavPath): Promise<ActiveLock[]> {
    return this.records.within(path);
  }

  /**
   * Returns the first lock whose token was not submitted and that forbids modifying `path` (and,
   * when `depth` is 'infinity', anything below it, e.g. DELETE/MOVE of a collection); null when
   * the write may go on. Token rule: see firstUnsatisfiedLock (one shared token satisfies the
   * shared locks on a resource; each exclusive lock needs its own). A new member of a
   * depth-infinity locked collection is covered by that lock (RFC 4918 §7.4), so callers pass the
   * new path. Pass depth '0' for a non-collection: with 'infinity' members are assumed to exist.
   * `prefetched` is covering(path) when the caller has read it already (blockingLockForChanges).
   */
  async blockingLock(path: DavPath, depth: LockDepth, submittedTokens: ReadonlySet<string>, prefetched?: ActiveLock[]): Promise<ActiveLock | null> {
    const onPath = prefetched ?? (await this.records.covering(path));
    const blocking = firstUnsatisfiedLock(onPath, submittedTokens);
    if (blocking || depth === '0') return blocking;
    // Depth infinity (RFC 4918 §9.6.1, §9.9.2): each member has its own set of covering locks.
    // The distinct sets are the ones at each lock root below `path`, and, for members that are no
    // lock root, the depth-infinity locks over their nearest ancestor among `path` and those roots.
    const below = await this.records.within(path);
    const known = new Map<string, ActiveLock>();
    for (const lock of [...onPath, ...below]) known.set(lock.token, lock);
    const roots = new Set<DavPath>([path]);
    for (const lock of below) roots.add(lock.root);
    for (const root of roots) {
      const onRoot = root === path ? onPath : coveringAmong(known.values(), root);
      const inherited = onRoot.filter((lock) => lock.depth === 'infinity');
      const found = firstUnsatisfiedLock(onRoot, submittedTokens) ?? firstUnsatisfiedLock(inherited, submittedTokens);
      if (found) return found;
    }
    return null;
  }

  /**
   * The first lock that forbids any of `writes` (as blockingLock) or, after them, adding or
   * removing any of `membershipChanges` as a member of its parent collection; null when all may go
   * on. RFC 4918 §7.4: a write lock on a collection, depth 0 or infinity, prevents adding or
   * removing member URLs by non-lock-owners, so a membership change is a depth-0 write to the
   * parent (PUT creating, MKCOL, DELETE, MOVE at both ends, COPY's destination; the root has no
   * parent). The locks covering every path involved are read in one step (one round trip to a
   * shared store).
   */
  async blockingLockForChanges(
    writes: ReadonlyArray<{ path: DavPath; depth: LockDepth }>, membershipChanges: readonly DavPath[], submittedTokens: ReadonlySet<string>,
  ): Promise<ActiveLock | null> {
    const parentWrites = membershipChanges.flatMap((path) => {
      const parent = parentOf(path);
      return parent === null ? [] : [{ path: parent, depth: '0' as const }];
    });
    const checks = [...writes, ...parentWrites];
    const paths = [...new Set(checks.map((check) => check.path))];
    const answers = await this.records.coveringEach(paths);
    const covering = new Map(paths.map((path, i) => [path, answers[i]]));
    for (const check of checks) {
      const lock = await this.blockingLock(check.path, check.depth, submittedTokens, covering.get(check.path));
      if (lock) return lock;
    }
    return null;
  }

  /**
   * Removes every lock rooted at `path` or below it: the resources are gone (DELETE, MOVE
   * source; RFC 4918 §7.6: a lock does not move with its resource).
   */
  async removeWithin(path: DavPath): Promise<void> {
    await this.records.removeWithin(path);
  }

  /** Removes every expired lock from the store. */
  async purgeExpired(): Promise<void> {
    await this.records.purgeExpired();
  }

  private async requireLock(token: string, path: DavPath): Promise<ActiveLock> {
    const lock = await this.records.byToken(token);
    if (!lock) throw new LockNotFoundError(token, path, 'unknown-token');
    return requireCovering(lock, token, path);
  }
}

function requireCovering(lock: ActiveLock, token: string, path: DavPath): ActiveLock {
  if (!lockCovers(lock, path)) throw new LockNotFoundError(token, path, 'not-covering');
  return lock;
}

/** The locks among `locks` that apply to `path`, outermost root first (as LockRecords.covering orders them). */
function coveringAmong(locks: Iterable<ActiveLock>, path: DavPath): ActiveLock[] {
  const found = [...locks].filter((lock) => lockCovers(lock, path));
  return found.sort((a, b) => segmentsOf(a.root).length - segmentsOf(b.root).length);
}
