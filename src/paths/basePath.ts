/**
 * The base path (`--base-path /dav/`): the URL prefix keepdav answers under, e.g. behind a reverse
 * proxy that serves other things beside it. Requests are mapped below it in one place (the request
 * adapter) and every href is built with it (`hrefOf`'s prefix), so handlers never see it.
 */

/** Characters a base path segment may hold as they are (RFC 3986 §3.3 pchar without "%"). */
const PLAIN_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/;

/**
 * "/dav/", "dav", "/dav" → "/dav"; "", "/" → "" (no prefix). Throws RangeError on a segment that is
 * ".", ".." or holds characters that would need percent-encoding.
 */
export function normalizeBasePath(raw: string): string {
  const segments = raw.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '.' || s === '..' || !PLAIN_SEGMENT.test(s)) {
      throw new RangeError(`base path "${raw}": each segment must be a plain name (letters, digits, "-._~" and the like), not "${s}"`);
    }
  }
  return segments.length === 0 ? '' : '/' + segments.join('/');
}

/**
 * The part of a (still percent-encoded) URL path below `basePath`, starting with "/"; null when the
 * path lies outside it. The base path itself, with or without its trailing "/", is the root.
 */
export function stripBasePath(urlPath: string, basePath: string): string | null {
  if (basePath === '') return urlPath;
  if (urlPath === basePath) return '/';
  return urlPath.startsWith(basePath + '/') ? urlPath.slice(basePath.length) : null;
}
