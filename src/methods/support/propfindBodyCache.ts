/**
 * Parsed PROPFIND bodies by their bytes: a client asks for the same properties over and over
 * (the same few hundred bytes on every folder it opens), and parsing them was a few percent of a
 * listing's CPU. Only bodies that parsed are kept, frozen (every consumer only reads them), at most
 * ENTRIES of at most BODY_BYTES each; the oldest goes first. Per server, since its XML limits
 * decide what parses.
 *
 * Usage: `cache.get(body) ?? cache.remember(body, parse(body))`.
 */
import type { PropfindRequest } from '../../xml/requests';

const ENTRIES = 64;
const BODY_BYTES = 4096;

export class PropfindBodyCache {
  private readonly parsed = new Map<string, PropfindRequest>();

  get(body: Buffer): PropfindRequest | undefined {
    return body.length > BODY_BYTES ? undefined : this.parsed.get(body.toString('latin1'));
  }

  remember(body: Buffer, request: PropfindRequest): PropfindRequest {
    if (body.length > BODY_BYTES) return request;
    const frozen = deepFreeze(request);
    if (this.parsed.size >= ENTRIES) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(body.toString('latin1'), frozen);
    return frozen;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
