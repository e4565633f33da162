/**
 * Lock records in the SQLite state database, with an in-memory index in front (this process is
 * the only owner of the embedded state): a LockTree by root path, a map by token and an expiry
 * heap answer every question without a query, and every change is written to the table before
 * the index, so a failing write leaves the index unchanged. A rolled-back transaction reloads the
 * index from the table. Each member is one synchronous step, so the conflict check and the insert
 * of `insertUnlessConflicting` are never split by another request.
 *
 * Expiry (RFC 4918 §6.6): each member first purges what has expired by the store's clock (from
 * the table as well), so nothing it answers can be expired.
 */
import type Database from 'better-sqlite3';
import type { DavPath } from '../../paths/davPath';
import { ActiveLock, LockDepth, LockScope, assertDavPath, isLockDepth, isLockScope, lockCovers, wouldConflict } from '../../locks/activeLock';
import { ExpiryQueue } from '../../locks/expiryQueue';
import { LockTree } from '../../locks/lockTree';
import { expiryOf } from '../../locks/timeoutPolicy';
import type { LockClaimed, LockGrant, LockRecords, NewLock, PathClaim } from '../stateStore';
import type { StepRunner, TransactionGate } from './transactionGate';

/** Stale heap entries are dropped once they outnumber live locks by this much. */
const EXPIRY_QUEUE_SLACK = 64;

interface LockRow {
  token: unknown;
  root: unknown;
  scope: unknown;
  depth: unknown;
  owner: unknown;
  timeout_seconds: unknown;
  expires_at_ms: unknown;
  created_at_ms: unknown;
  principal: unknown;
}

/** Thrown when a stored row cannot be a lock: better to refuse to start than to drop a lock. */
export class CorruptLockRowError extends Error {
  constructor(readonly token: unknown, readonly reason: string) {
    super(`corrupt row in table locks (token ${String(token)}): ${reason}`);
    this.name = 'CorruptLockRowError';
  }
}

export class SqliteLockRecords implements LockRecords {
  private readonly tree = new LockTree();
  private readonly tokens = new Map<string, ActiveLock>();
  private readonly expiries = new ExpiryQueue();
  private readonly selectAll: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly updateExpiry: Database.Statement;
  private readonly removeMany: (tokens: readonly string[]) => void;

  /** Loads every lock once and removes the expired ones; throws CorruptLockRowError on a bad row. */
  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  /**
   * `claimed(claims)`: whether a holder of a write claim (the store's PathMutex) meets `claims`
   * now. Asked inside the insert's step, so no claim can begin between the look and the insert.
   */
  constructor(
    db: Database.Database,
    transactions: TransactionGate,
    private readonly clock: () => number,
    private readonly claimed: (claims: readonly PathClaim[]) => boolean,
  ) {
    this.gate = transactions.outside;
    this.selectAll = db.prepare('SELECT * FROM locks ORDER BY created_at_ms, token');
    this.insert = db.prepare(`
      INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms, principal)
      VALUES (@token, @root, @scope, @depth, @owner, @timeoutSeconds, @expiresAtMs, @createdAtMs, @principal)`);
    this.updateExpiry = db.prepare('UPDATE locks SET timeout_seconds = ?, expires_at_ms = ? WHERE token = ?');
    const deleteOne = db.prepare('DELETE FROM locks WHERE token = ?');
    this.removeMany = db.transaction((tokens: readonly string[]) => {
      for (const token of tokens) deleteOne.run(token);
    });
    this.load();
    transactions.onRollback(() => this.load());
  }

  insertUnlessConflicting(lock: NewLock): Promise<LockGrant> {
    return this.gate.call(() => this.insertNow(lock));
  }

  insertUnlessClaimedOrConflicting(lock: NewLock, claims: readonly PathClaim[]): Promise<LockGrant | LockClaimed> {
    return this.gate.call(() => (this.claimed(claims) ? { claimed: true as const } : this.insertNow(lock)));
  }

  /** The check and the insert of insertUnlessConflicting, in one synchronous step. */
  private insertNow(lock: NewLock): LockGrant {
    assertDavPath(lock.root);
    if (!isLockScope(lock.scope)) throw new RangeError(`unknown lock scope ${String(lock.scope)}`);
    if (!isLockDepth(lock.depth)) throw new RangeError(`unknown lock depth ${String(lock.depth)}`);
    const now = this.purgeUntilNow();
    const conflict = this.findConflict(lock.root, lock.depth, lock.scope);
    if (conflict) return { conflict };
    const granted: ActiveLock = Object.freeze({
      token: lock.token,
      root: lock.root,
      scope: lock.scope,
      depth: lock.depth,
      owner: lock.owner ?? null,
      ...(typeof lock.principal === 'string' ? { principal: lock.principal } : {}),
      timeoutSeconds: lock.timeoutSeconds,
      expiresAtMs: expiryOf(now, lock.timeoutSeconds),
      createdAtMs: now,
    });
    this.insert.run({
      token: granted.token,
      root: granted.root,
      scope: granted.scope,
      depth: granted.depth,
      owner: granted.owner,
      timeoutSeconds: finiteOrNull(granted.timeoutSeconds),
      expiresAtMs: finiteOrNull(granted.expiresAtMs),
      createdAtMs: granted.createdAtMs,
      principal: granted.principal ?? null,
    });
    this.index(granted);
    return { granted };
  }

  refresh(token: string, timeoutSeconds: number): Promise<ActiveLock | null> {
    return this.gate.call(() => {
      const now = this.purgeUntilNow();
      const lock = this.tokens.get(token);
      if (!lock) return null;
      const refreshed: ActiveLock = Object.freeze({ ...lock, timeoutSeconds, expiresAtMs: expiryOf(now, timeoutSeconds) });
      this.updateExpiry.run(finiteOrNull(refreshed.timeoutSeconds), finiteOrNull(refreshed.expiresAtMs), token);
      this.index(refreshed);
      return refreshed;
    });
  }

  release(token: string): Promise<ActiveLock | null> {
    return this.releaseIf(token, () => true);
  }

  releaseOwned(token: string, path: DavPath, principal: string | null): Promise<ActiveLock | null> {
    return this.releaseIf(token, (lock) => lockCovers(lock, path) && (lock.principal ?? null) === principal);
  }

  /** Removes the active lock `token` when `accept` says so, in one step; returns it, or null. */
  private releaseIf(token: string, accept: (lock: ActiveLock) => boolean): Promise<ActiveLock | null> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      const lock = this.tokens.get(token);
      if (!lock || !accept(lock)) return null;
      this.removeMany([token]);
      this.unindex(lock);
      return lock;
    });
  }

  byToken(token: string): Promise<ActiveLock | null> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      return this.tokens.get(token) ?? null;
    });
  }

  covering(path: DavPath): Promise<ActiveLock[]> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      return this.tree.covering(path);
    });
  }

  coveringEach(paths: readonly DavPath[]): Promise<ActiveLock[][]> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      return paths.map((path) => this.tree.covering(path));
    });
  }

  within(path: DavPath): Promise<ActiveLock[]> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      return this.tree.within(path);
    });
  }

  removeWithin(path: DavPath): Promise<number> {
    return this.gate.call(() => {
      this.purgeUntilNow();
      const doomed = this.tree.within(path);
      if (doomed.length === 0) return 0;
      this.removeMany(doomed.map((lock) => lock.token));
      this.tree.detachWithin(path);
      for (const lock of doomed) this.tokens.delete(lock.token);
      return doomed.length;
    });
  }

  purgeExpired(): Promise<number> {
    return this.gate.call(() => {
      const before = this.tokens.size;
      this.purgeUntilNow();
      return before - this.tokens.size;
    });
  }

  /** (Re)builds the index from the table, removing the locks expired by now. */
  private load(): void {
    this.tree.detachWithin('/');
    this.tokens.clear();
    this.expiries.rebuild([]);
    const now = this.now();
    const expired: string[] = [];
    for (const lock of (this.selectAll.all() as LockRow[]).map(rowToLock)) {
      if (lock.expiresAtMs > now) this.index(Object.freeze(lock));
      else expired.push(lock.token);
    }
    if (expired.length > 0) this.removeMany(expired);
  }

  private now(): number {
    const now = this.clock();
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError('the state clock returned no finite time');
    return now;
  }

  /** Purges what has expired at now() and returns that instant. */
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
      this.removeMany([...expired.keys()]);
    } catch (error) {
      for (const entry of due) this.expiries.push(entry);
      throw error;
    }
    for (const lock of expired.values()) this.unindex(lock);
    return now;
  }

  /** RFC 4918 §9.10.3, §6.1-§6.2: the locks covering the root, and for depth infinity those below it. */
  private findConflict(root: DavPath, depth: LockDepth, scope: LockScope): ActiveLock | undefined {
    const nearby = this.tree.covering(root);
    if (depth === 'infinity') nearby.push(...this.tree.within(root).filter((lock) => lock.root !== root));
    return nearby.find((lock) => wouldConflict(lock, root, depth, scope));
  }

  /** Adds (or replaces, same token) a lock in every in-memory index. */
  private index(lock: ActiveLock): void {
    const previous = this.tokens.get(lock.token);
    if (previous) this.tree.delete(previous.root, previous.token);
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

/** Infinity has no SQL spelling that survives every driver; NULL stands for it. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function numberOrInfinity(value: unknown, token: unknown, column: string): number {
  if (value === null) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new CorruptLockRowError(token, `${column} is not a number`);
  return value;
}

function rowToLock(row: LockRow): ActiveLock {
  const { token, root, scope, depth, owner } = row;
  if (typeof token !== 'string' || token === '') throw new CorruptLockRowError(token, 'token is not a string');
  try {
    assertDavPath(root);
  } catch {
    throw new CorruptLockRowError(token, 'root is not a valid path');
  }
  if (!isLockScope(scope)) throw new CorruptLockRowError(token, 'bad scope');
  if (!isLockDepth(depth)) throw new CorruptLockRowError(token, 'bad depth');
  if (owner !== null && typeof owner !== 'string') throw new CorruptLockRowError(token, 'owner is not text');
  if (typeof row.created_at_ms !== 'number') throw new CorruptLockRowError(token, 'created_at_ms is not a number');
  if (row.principal !== null && typeof row.principal !== 'string') throw new CorruptLockRowError(token, 'principal is not text');
  return {
    token,
    root,
    scope,
    depth,
    owner,
    timeoutSeconds: numberOrInfinity(row.timeout_seconds, token, 'timeout_seconds'),
    expiresAtMs: numberOrInfinity(row.expires_at_ms, token, 'expires_at_ms'),
    createdAtMs: row.created_at_ms,
    ...(typeof row.principal === 'string' ? { principal: row.principal } : {}),
  };
}
