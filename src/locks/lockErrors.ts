/**
 * Errors of the lock policy. Plain Error subclasses: the HTTP layer maps them to statuses and
 * precondition elements; nothing here knows about HTTP.
 */
import type { DavPath } from '../paths/davPath';
import type { ActiveLock } from './activeLock';

/**
 * A LOCK request cannot be granted because `conflicting` is in the way
 * (RFC 4918 §9.10.1: 423 Locked with the DAV:no-conflicting-lock precondition).
 */
export class LockConflictError extends Error {
  constructor(readonly conflicting: ActiveLock) {
    super(`conflicts with ${conflicting.scope} lock rooted at ${conflicting.root}`);
    this.name = 'LockConflictError';
  }
}

/** Why a token did not name a usable lock. */
export type LockNotFoundReason = 'unknown-token' | 'not-covering';

/**
 * A refresh or unlock named a token that is no active lock ('unknown-token': never granted,
 * released or expired) or whose lock does not cover the request path ('not-covering').
 * RFC 4918 §9.11.1: UNLOCK answers 409 with DAV:lock-token-matches-request-uri; a refresh whose
 * If header names no matching lock fails its precondition (412, §9.10.2 and §10.4).
 */
export class LockNotFoundError extends Error {
  constructor(
    readonly token: string,
    readonly path: DavPath,
    readonly reason: LockNotFoundReason,
  ) {
    super(reason === 'unknown-token' ? 'no active lock has this token' : `the lock does not cover ${path}`);
    this.name = 'LockNotFoundError';
  }
}
