/**
 * DavPath: the one internal name of a resource.
 *
 * A DavPath is a decoded string that starts with "/", has no trailing slash (except the root "/"),
 * and whose segments are non-empty, never "." or "..", and hold no NUL, "/" or "\". Everything
 * below the HTTP edge (storage, locks, properties) speaks DavPath only; the edge makes one from a
 * request URL with `davPathFromUrlPath` and turns one back into an href with `hrefOf`.
 */
export type DavPath = string;

export const ROOT: DavPath = '/';

/** Thrown when a URL path cannot name a resource under the root (the edge answers 400). */
export class BadPathError extends Error {
  constructor(readonly reason: string) {
    super(`bad path: ${reason}`);
    this.name = 'BadPathError';
  }
}

/** "/seg(/seg)*" of characters that percent-decoding leaves alone and a segment may hold. */
const PLAIN_URL_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+$/;
const URL_DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * Decodes a URL path (already stripped of query and fragment) into a DavPath.
 * Percent-decoding happens exactly once per segment, so "%2F" can never become a separator
 * and "%2e%2e" is refused like "..". Empty segments ("a//b", trailing "/") are dropped.
 */
export function davPathFromUrlPath(urlPath: string): DavPath {
  // Most URL paths need no decoding and hold no dot segment: they are their own DavPath
  // (256 characters at most, so no segment can pass 255 bytes).
  if (urlPath.length <= 256 && PLAIN_URL_PATH.test(urlPath) && !URL_DOT_SEGMENT.test(urlPath)) return urlPath;
  if (!urlPath.startsWith('/')) throw new BadPathError('path must start with /');
  const segments: string[] = [];
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new BadPathError('malformed percent-encoding');
    }
    checkSegment(segment);
    segments.push(segment);
  }
  return segments.length === 0 ? ROOT : '/' + segments.join('/');
}

/** Throws BadPathError unless `segment` may be one name in a DavPath. */
export function checkSegment(segment: string): void {
  if (segment === '' ) throw new BadPathError('empty segment');
  if (segment === '.' || segment === '..') throw new BadPathError('dot segment');
  if (/[\u0000/\\]/.test(segment)) throw new BadPathError('forbidden character in segment');
  if (Buffer.byteLength(segment) > 255) throw new BadPathError('segment longer than 255 bytes');
}

export function segmentsOf(path: DavPath): string[] {
  return path === ROOT ? [] : path.slice(1).split('/');
}

export function joinPath(parent: DavPath, name: string): DavPath {
  checkSegment(name);
  return parent === ROOT ? '/' + name : parent + '/' + name;
}

/** The parent collection's path; the root has none (null). */
export function parentOf(path: DavPath): DavPath | null {
  if (path === ROOT) return null;
  const cut = path.lastIndexOf('/');
  return cut === 0 ? ROOT : path.slice(0, cut);
}

export function baseName(path: DavPath): string {
  return path === ROOT ? '' : path.slice(path.lastIndexOf('/') + 1);
}

/** True when `inner` is `outer` itself or lies anywhere below it. */
export function isSameOrInside(inner: DavPath, outer: DavPath): boolean {
  if (outer === ROOT) return true;
  return inner === outer || inner.startsWith(outer + '/');
}

/** Re-bases `path` (which lies in `from`) onto `to`: rebase('/a/x/y', '/a', '/b') = '/b/x/y'. */
export function rebase(path: DavPath, from: DavPath, to: DavPath): DavPath {
  if (!isSameOrInside(path, from)) throw new Error(`${path} is not inside ${from}`);
  const rest = from === ROOT ? path : path.slice(from.length);
  if (rest === '' || rest === '/') return to;
  return to === ROOT ? rest : to + rest;
}

/** Characters kept as they are in an href segment (RFC 3986 unreserved plus a few safe sub-delims). */
const KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

/** A path whose every character is kept (or "/"): its href is the path itself. */
const ALL_KEPT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

function encodeSegment(segment: string): string {
  if (ALL_KEPT.test(segment)) return segment;
  let out = '';
  for (const ch of segment) {
    if (KEEP.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * The absolute-path href of a resource, percent-encoded the same way everywhere;
 * collections end in "/" (RFC 4918 §5.2). `prefix` is a mount prefix ("" by default).
 */
export function hrefOf(path: DavPath, isCollection: boolean, prefix = ''): string {
  if (path === ROOT) return prefix + '/';
  if (ALL_KEPT.test(path)) return isCollection ? prefix + path + '/' : prefix + path;
  const encoded = segmentsOf(path).map(encodeSegment).join('/');
  const href = prefix + '/' + encoded;
  if (path === ROOT) return prefix + '/';
  return isCollection ? href + '/' : href;
}
