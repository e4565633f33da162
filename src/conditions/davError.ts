/**
 * The base of the error vocabulary: one subclass per DAV condition (see davErrors.ts).
 *
 * A DavError carries everything its answer needs (status, stable keepdav code, the RFC 4918
 * precondition element, the facts about the current resource, extra headers); the HTTP edge
 * renders every one of them in one place (src/http/errorResponse.ts), as XML or as
 * application/problem+json (RFC 9457).
 */

/** The keepdav namespace of our own error element and properties. */
export const KEEPDAV_NS = 'urn:keepdav:ns';

/** A precondition/postcondition element of RFC 4918 §16, in the DAV: namespace. */
export interface DavCondition {
  /** Local name, e.g. 'lock-token-submitted'. */
  element: string;
  /** Hrefs the element lists (the lock root for lock-token-submitted / no-conflicting-lock). */
  hrefs?: string[];
}

/** What the server knows about the resource the request collided with. */
export interface ResourceFacts {
  href?: string;
  etag?: string | null;
  lastModifiedMs?: number | null;
  /** Any further stable fields the condition explains itself with (declared mtime, operation id...). */
  [extra: string]: string | number | null | undefined;
}

export abstract class DavError extends Error {
  abstract readonly status: number;
  /** Stable machine-readable code, documented in the README. */
  abstract readonly code: string;
  readonly condition: DavCondition | null;
  facts: ResourceFacts;
  readonly headers: Record<string, string>;

  protected constructor(message: string, options: { condition?: DavCondition; facts?: ResourceFacts; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = new.target.name;
    this.condition = options.condition ?? null;
    this.facts = options.facts ?? {};
    this.headers = options.headers ?? {};
  }

  /** Adds what is known of the current resource (ETag, modification time) to the answer. */
  about(facts: ResourceFacts): this {
    this.facts = { ...this.facts, ...facts };
    return this;
  }
}
