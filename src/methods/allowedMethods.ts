/** Every method keepdav implements, for Allow headers (RFC 9110 §10.2.1). */
export const ALLOWED_METHODS = 'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK, POST';

/** What a --read-only server answers. */
const READ_ONLY_METHODS = 'OPTIONS, GET, HEAD, PROPFIND';

/** The Allow of an OPTIONS answer (of a resource, or of `*`): a read-only server lists only what it will do. */
export function allowedMethodsOf(readOnly: boolean): string {
  return readOnly ? READ_ONLY_METHODS : ALLOWED_METHODS;
}
