/**
 * Parsed request bodies by their bytes. A client sends the same small body over and over: the
 * same PROPFIND on every folder it opens, the same lockinfo (its own owner) on every LOCK; parsing
 * them was a few percent of a listing's CPU and a tenth of a LOCK's. Only bodies that parsed are
 * kept, frozen (every consumer only reads them), at most ENTRIES of at most BODY_BYTES each; the
 * oldest goes first. One cache per server and method, since the server's XML limits decide what
 * parses.
 *
 * Usage: `parsedBody(services, 'PROPFIND', body, parse)`.
 */
import type { Services } from '../context';

const ENTRIES = 64;
const BODY_BYTES = 4096;

export class ParsedBodyCache<T> {
  private readonly parsed = new Map<string, T>();

  get(body: Buffer): T | undefined {
    return body.length > BODY_BYTES ? undefined : this.parsed.get(body.toString('latin1'));
  }

  remember(body: Buffer, request: T): T {
    if (body.length > BODY_BYTES) return request;
    const frozen = deepFreeze(request);
    if (this.parsed.size >= ENTRIES) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(body.toString('latin1'), frozen);
    return frozen;
  }
}

/** Per server, then per method. */
const caches = new WeakMap<Services, Map<string, ParsedBodyCache<unknown>>>();

/** `parse(body)`, or what it answered for the same bytes before on this server for `method`. */
export function parsedBody<T>(services: Services, method: string, body: Buffer, parse: (body: Buffer) => T): T {
  let byMethod = caches.get(services);
  if (byMethod === undefined) caches.set(services, (byMethod = new Map()));
  let cache = byMethod.get(method) as ParsedBodyCache<T> | undefined;
  if (cache === undefined) byMethod.set(method, (cache = new ParsedBodyCache<T>()));
  return cache.get(body) ?? cache.remember(body, parse(body));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
