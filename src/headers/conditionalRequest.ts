import { readEntityTag, strongMatch, weakMatch } from './entityTag';
import { HeaderSyntaxError } from './headerSyntaxError';
import { parseHttpDate } from './httpDate';

/**
 * HTTP conditional requests (RFC 9110 §13): If-Match, If-None-Match, If-Modified-Since and
 * If-Unmodified-Since, evaluated in the one order of §13.2.2. (If-Range is in range.ts.)
 */

/** The raw values of the four conditional headers, undefined when absent. */
export interface ConditionalHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/** The current state of the target resource, as far as validators go. */
export interface ResourceVersion {
  exists: boolean;
  etag: string | null;
  lastModifiedMs: number | null;
}

export type ConditionalOutcome =
  | { kind: 'proceed' }
  | { kind: 'not-modified' }
  | { kind: 'precondition-failed'; header: 'If-Match' | 'If-None-Match' | 'If-Unmodified-Since' };

/**
 * Parses If-Match or If-None-Match (RFC 9110 §13.1.1-13.1.2: "*" / #entity-tag).
 * Returns "*", the entity-tags exactly as written (`"a"`, `W/"b"`) in order, or undefined when
 * the header is absent. Whitespace and empty list elements (RFC 9110 §5.6.1) are skipped.
 * @throws HeaderSyntaxError for a blank value, an unquoted or unterminated tag, "*" mixed with
 *   tags, or anything else between the commas.
 */
export function parseEntityTagList(value: string | undefined, header = 'If-Match'): '*' | string[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '*') return '*';
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    const ch = value[i];
    if (ch === ' ' || ch === '\t' || ch === ',') {
      i += 1;
      continue;
    }
    const read = readEntityTag(value, i);
    if (read === null) throw new HeaderSyntaxError(header, `malformed entity-tag at offset ${i}`);
    tags.push(read.tag);
    i = read.end;
    while (value[i] === ' ' || value[i] === '\t') i += 1;
    if (i < value.length && value[i] !== ',') throw new HeaderSyntaxError(header, `expected "," at offset ${i}`);
  }
  if (tags.length === 0) throw new HeaderSyntaxError(header, 'no entity-tag');
  return tags;
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** §13.1.1: "*" is true iff a current representation exists; else a STRONG match with any tag. */
function ifMatchHolds(list: '*' | string[], v: ResourceVersion): boolean {
  if (list === '*') return v.exists;
  const current = v.etag;
  return v.exists && current !== null && list.some((tag) => strongMatch(tag, current));
}

/** §13.1.2: "*" is false iff a current representation exists; else false on any WEAK match. */
function ifNoneMatchHolds(list: '*' | string[], v: ResourceVersion): boolean {
  if (list === '*') return !v.exists;
  const current = v.etag;
  return !(v.exists && current !== null && list.some((tag) => weakMatch(tag, current)));
}

/**
 * The resource's modification time and the header's date, both at one-second resolution
 * (HTTP dates carry no fraction). Null when the condition must be ignored: the resource does
 * not exist or has no modification date, or the header is not a valid HTTP-date (§13.1.3-4).
 */
function comparableDates(value: string | undefined, v: ResourceVersion): { modified: number; given: number } | null {
  if (value === undefined || !v.exists || v.lastModifiedMs === null) return null;
  const given = parseHttpDate(value);
  if (given === null) return null;
  return { modified: wholeSeconds(v.lastModifiedMs), given: wholeSeconds(given) };
}

/**
 * Evaluates the conditional headers in exactly the order of RFC 9110 §13.2.2:
 *   1. If-Match (strong comparison; "*" true iff the resource exists); when false: 412.
 *   2. Only without If-Match: If-Unmodified-Since (an invalid date is ignored); when the
 *      resource was modified after the date: 412.
 *   3. If-None-Match (weak comparison; "*" false iff the resource exists); when false:
 *      304 for GET and HEAD, 412 for any other method.
 *   4. Only without If-None-Match, for GET and HEAD: If-Modified-Since; when the resource
 *      was not modified after the date: 304.
 * Date conditions apply only to an existing resource with a modification time.
 * Returns what the caller should do; `method` is compared without regard to case.
 * @throws HeaderSyntaxError when If-Match or If-None-Match is malformed (the caller answers 400).
 */
export function evaluateConditionalHeaders(h: ConditionalHeaders, v: ResourceVersion, method: string): ConditionalOutcome {
  const isRead = method.toUpperCase() === 'GET' || method.toUpperCase() === 'HEAD';
  const ifMatch = parseEntityTagList(h.ifMatch, 'If-Match');
  const ifNoneMatch = parseEntityTagList(h.ifNoneMatch, 'If-None-Match');

  if (ifMatch !== undefined) {
    if (!ifMatchHolds(ifMatch, v)) return { kind: 'precondition-failed', header: 'If-Match' };
  } else {
    const dates = comparableDates(h.ifUnmodifiedSince, v);
    if (dates !== null && dates.modified > dates.given) {
      return { kind: 'precondition-failed', header: 'If-Unmodified-Since' };
    }
  }

  if (ifNoneMatch !== undefined) {
    if (!ifNoneMatchHolds(ifNoneMatch, v)) {
      return isRead ? { kind: 'not-modified' } : { kind: 'precondition-failed', header: 'If-None-Match' };
    }
  } else if (isRead) {
    const dates = comparableDates(h.ifModifiedSince, v);
    if (dates !== null && dates.modified <= dates.given) return { kind: 'not-modified' };
  }

  return { kind: 'proceed' };
}
