import { strongMatch } from './entityTag';
import type { IfCondition, IfHeader, IfList } from './ifHeader';

/** What the If header may ask about one resource. */
export interface IfResourceState {
  exists: boolean;
  /** The current strong ETag as sent in responses (quoted), null when there is none. */
  etag: string | null;
  /** Tokens of the active locks that cover the resource (its own and its ancestors' deep locks). */
  lockTokens: ReadonlySet<string>;
}

/** The facts the evaluator needs, supplied by the caller (locks and storage live elsewhere). */
export interface IfEvaluationContext {
  /** The DavPath of the request-URI: what untagged lists are about. */
  requestPath: string;
  /** Maps a Resource-Tag to a DavPath; null when it does not name a resource of ours. */
  resolveTag(tag: string): string | null;
  stateOf(path: string): IfResourceState;
}

/** A State-token that no lock ever has (RFC 4918 §10.4.8 uses it to make lists always true). */
const NO_LOCK = 'DAV:no-lock';

/**
 * A token condition holds when the token belongs to a lock covering the resource
 * (RFC 4918 §10.4.4 "matches"); an etag condition when the resource exists and its ETag is
 * strongly equal to the written one, so a weak tag never matches and an unmapped URL
 * matches no tag (RFC 4918 §10.4.3, §10.4.11). `Not` negates (§10.4.1).
 */
function isConditionTrue(condition: IfCondition, state: IfResourceState): boolean {
  const holds =
    condition.kind === 'token'
      ? condition.token !== NO_LOCK && state.lockTokens.has(condition.token)
      : state.exists && state.etag !== null && strongMatch(condition.etag, state.etag);
  return condition.not ? !holds : holds;
}

/**
 * Evaluates a parsed If header (RFC 4918 §10.4.2-10.4.4).
 * Returns true when at least one list is true. A list is true when all its conditions are;
 * an untagged list is about the request-URI, a tagged one about the resource its tag resolves
 * to, and a tag that resolves to nothing makes its list false. The caller answers 412 when
 * this is false (RFC 4918 §10.4.1). Asks `stateOf` at most once per path. Never throws by
 * itself.
 */
export function evaluateIfHeader(header: IfHeader, ctx: IfEvaluationContext): boolean {
  const knownStates = new Map<string, IfResourceState>();
  const stateOf = (path: string): IfResourceState => {
    let state = knownStates.get(path);
    if (state === undefined) {
      state = ctx.stateOf(path);
      knownStates.set(path, state);
    }
    return state;
  };
  const isListTrue = (list: IfList): boolean => {
    const path = list.resourceTag === null ? ctx.requestPath : ctx.resolveTag(list.resourceTag);
    if (path === null) return false;
    const state = stateOf(path);
    return list.conditions.every((condition) => isConditionTrue(condition, state));
  };
  return header.lists.some(isListTrue);
}

/**
 * Every State-token named anywhere in the header, in a `Not` condition or not, in any list
 * (DAV:no-lock included as written). This answers "did the client submit the lock token?"
 * (RFC 4918 §7.5, 423 when not), a question separate from whether the lists are true.
 * Returns an empty set for an absent header.
 */
export function submittedLockTokens(header: IfHeader | null): Set<string> {
  const tokens = new Set<string>();
  for (const list of header?.lists ?? []) {
    for (const condition of list.conditions) {
      if (condition.kind === 'token') tokens.add(condition.token);
    }
  }
  return tokens;
}
