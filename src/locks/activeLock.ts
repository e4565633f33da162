/**
 * The shape of one WebDAV write lock (RFC 4918 §6, §7) and the pure rules about one lock:
 * which paths it applies to, whether it is still alive, and whether two locks may coexist.
 */
import { randomUUID } from 'node:crypto';
import { BadPathError, DavPath, ROOT, checkSegment, isSameOrInside, segmentsOf } from '../paths/davPath';

export type LockScope = 'exclusive' | 'shared';
export type LockDepth = '0' | 'infinity';

export interface ActiveLock {
  /** 'urn:uuid:<uuid v4>' (RFC 4918 §6.5: unique across all resources for all time). */
  readonly token: string;
  /** The lock root (RFC 4918 §6.1 item 2): the path the LOCK request named. */
  readonly root: DavPath;
  readonly scope: LockScope;
  readonly depth: LockDepth;
  /** The <D:owner> element as serialized by the XML layer, stored opaquely (RFC 4918 §14.17). */
  readonly owner: string | null;
  /** The signed-in user who took the lock (RFC 4918 §6.4); absent when it was taken anonymously. */
  readonly principal?: string;
  /** The timeout as granted, in seconds; Infinity for "Infinite". */
  readonly timeoutSeconds: number;
  /** clock() at grant or refresh + timeoutSeconds * 1000, or Infinity. */
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
}

/** Returns a fresh lock token: a urn:uuid URI from crypto.randomUUID() (122 random bits). */
export function newLockToken(): string {
  return `urn:uuid:${randomUUID()}`;
}

/**
 * True while the lock exists. RFC 4918 §6.6: once its timeout has passed the lock is gone for
 * every method, whether or not anything has purged it yet; expiresAtMs itself is already expired.
 */
export function isLockActive(lock: ActiveLock, nowMs: number): boolean {
  return lock.expiresAtMs > nowMs;
}

/**
 * True when `lock` applies to `path`: it is rooted there, or it is a depth-infinity lock rooted at
 * an ancestor (RFC 4918 §6.1 item 4, §9.10.3: members of a depth-infinity locked collection are
 * indirectly locked, also members added later).
 */
export function lockCovers(lock: ActiveLock, path: DavPath): boolean {
  if (lock.root === path) return true;
  return lock.depth === 'infinity' && isSameOrInside(path, lock.root);
}

/**
 * True when a new lock (`newRoot`, `newDepth`, `newScope`) may not be granted next to `existing`.
 * RFC 4918 §6.1 item 3 and §6.2: an exclusive lock conflicts with any other lock on the same
 * resource, direct or indirect; shared locks coexist. §9.10.3: a depth-infinity request must be
 * grantable on every member, so locks rooted below its root count too; a depth-0 request only
 * meets the locks that cover its root.
 */
export function wouldConflict(existing: ActiveLock, newRoot: DavPath, newDepth: LockDepth, newScope: LockScope): boolean {
  if (newScope === 'shared' && existing.scope === 'shared') return false;
  if (lockCovers(existing, newRoot)) return true;
  return newDepth === 'infinity' && isSameOrInside(existing.root, newRoot);
}

/**
 * Throws BadPathError unless `path` is a well-formed DavPath (leading "/", no trailing "/", every
 * segment valid). Used where a path is about to be stored, so a malformed one never persists.
 */
export function assertDavPath(path: unknown): asserts path is DavPath {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new BadPathError('path must start with /');
  if (path === ROOT) return;
  if (path.endsWith('/')) throw new BadPathError('trailing slash');
  for (const segment of segmentsOf(path)) checkSegment(segment);
}

export function isLockScope(value: unknown): value is LockScope {
  return value === 'exclusive' || value === 'shared';
}

export function isLockDepth(value: unknown): value is LockDepth {
  return value === '0' || value === 'infinity';
}
