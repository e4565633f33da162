/** Every method keepdav implements, for Allow headers (RFC 9110 §10.2.1). */
export const ALLOWED_METHODS = 'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK, POST';

/** What a --read-only server answers. */
export const READ_ONLY_METHODS = 'OPTIONS, GET, HEAD, PROPFIND';
