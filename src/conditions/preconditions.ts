/**
 * The single, fixed order in which a request's preconditions are evaluated (architecture rule 4):
 *
 *   1. If-Match / If-None-Match / If-Unmodified-Since / If-Modified-Since  (RFC 9110 §13.2.2) -> 412 or 304
 *   2. the If header's lists, against locks and ETags                     (RFC 4918 §10.4)    -> 412
 *   3. a lock token submitted for every lock that protects what is written (RFC 4918 §7.5)     -> 423
 *
 * Truth of the If lists and submission of a token are different questions: litmus
 * `fail_cond_put` (`(<DAV:no-lock> [E])` on a locked resource) wants 412, `cond_put_corrupt_token`
 * (`(<bad>) (Not <DAV:no-lock>)`) wants 423. Header syntax errors surface as 400 before anything.
 */
import type { DavPath } from '../paths/davPath';
import type { LockManager } from '../locks/lockManager';
import type { LockDepth } from '../locks/activeLock';
import { parseIfHeader, evaluateIfHeader, submittedLockTokens, type IfResourceState } from '../headers/ifHeader';
import { evaluateConditionalHeaders } from '../headers/conditionalRequest';
import { PreconditionFailedError, IfHeaderFalseError, LockTokenSubmittedError } from './davErrors';
import type { ResourceFacts } from './davError';

/** The request's target as the conditions see it. */
export interface ConditionTarget {
  path: DavPath;
  exists: boolean;
  etag: string | null;
  lastModifiedMs: number | null;
  facts: ResourceFacts;
}

/** What the request will modify: a resource (and, with depth infinity, everything below it). */
export interface ProtectedWrite {
  path: DavPath;
  depth: LockDepth;
}

export interface PreconditionInput {
  method: string;
  header(name: string): string | undefined;
  target: ConditionTarget;
  locks: LockManager;
  /** Resources the request modifies; each lock protecting one must have its token submitted. */
  writes: readonly ProtectedWrite[];
  /** Resources created or removed: their parent collection's membership changes (RFC 4918 §7.4). */
  membershipChanges: readonly DavPath[];
  resolveTag(tag: string): DavPath | null;
  /** The current ETag (null when missing or a collection) of a resource named by a tagged If list. */
  etagOf(path: DavPath): Promise<{ exists: boolean; etag: string | null }>;
  /** Tokens submitted outside the If header (a Lock-Token header, when so configured). */
  alsoSubmitted: readonly string[];
  /** Whether a submitted token may count for this requester: another user's token does not (RFC 4918 §6.4). */
  mayUseToken(token: string): Promise<boolean>;
  /** The href of a lock root, for the 423 body. */
  lockRootHref(path: DavPath): Promise<string>;
}

export type PreconditionOutcome = 'proceed' | 'not-modified';

/** Evaluates all preconditions in order; throws the first failing condition's DavError. */
export async function evaluatePreconditions(input: PreconditionInput): Promise<PreconditionOutcome> {
  const { target } = input;

  // 1. RFC 9110 §13.2.2.
  const outcome = evaluateConditionalHeaders(
    {
      ifMatch: input.header('if-match'),
      ifNoneMatch: input.header('if-none-match'),
      ifModifiedSince: input.header('if-modified-since'),
      ifUnmodifiedSince: input.header('if-unmodified-since'),
    },
    { exists: target.exists, etag: target.etag, lastModifiedMs: target.lastModifiedMs },
    input.method,
  );
  if (outcome.kind === 'precondition-failed') throw new PreconditionFailedError(outcome.header, target.facts);

  // 2. RFC 4918 §10.4: the If header must have at least one true list.
  const ifHeader = parseIfHeader(input.header('if'));
  if (ifHeader) {
    const states = new Map<DavPath, IfResourceState>();
    const paths = new Set<DavPath>([target.path]);
    for (const list of ifHeader.lists) {
      const tagged = list.resourceTag === null ? null : input.resolveTag(list.resourceTag);
      if (tagged !== null) paths.add(tagged);
    }
    for (const path of paths) {
      const version = path === target.path ? { exists: target.exists, etag: target.etag } : await input.etagOf(path);
      const lockTokens = new Set((await input.locks.covering(path)).map((lock) => lock.token));
      states.set(path, { exists: version.exists, etag: version.etag, lockTokens });
    }
    const empty: IfResourceState = { exists: false, etag: null, lockTokens: new Set() };
    const holds = evaluateIfHeader(ifHeader, {
      requestPath: target.path,
      resolveTag: input.resolveTag,
      stateOf: (path) => states.get(path) ?? empty,
    });
    if (!holds) throw new IfHeaderFalseError(target.facts);
  }

  // 3. RFC 4918 §7.5: every lock protecting what is written needs its token submitted.
  if (input.writes.length > 0 || input.membershipChanges.length > 0) {
    const submitted = submittedLockTokens(ifHeader);
    for (const token of input.alsoSubmitted) submitted.add(token);
    for (const token of [...submitted]) if (!(await input.mayUseToken(token))) submitted.delete(token);
    const lock = await input.locks.blockingLockForChanges(input.writes, input.membershipChanges, submitted);
    if (lock) throw new LockTokenSubmittedError(await input.lockRootHref(lock.root), target.facts);
  }

  return outcome.kind === 'not-modified' ? 'not-modified' : 'proceed';
}
