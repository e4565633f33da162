/**
 * The little URI syntax the header parsers need (RFC 3986), kept permissive about which
 * characters appear after the scheme but never allowing what cannot be inside `<...>`.
 */

/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":". */
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Whitespace, controls, and the delimiters that can never be part of a URI in a header. */
const NEVER_IN_URI = /[\u0000-\u0020\u007f<>"]/;

/** True when `text` starts with a URI scheme and its colon ("opaquelocktoken:", "http:"). */
export function hasUriScheme(text: string): boolean {
  return SCHEME_PREFIX.test(text);
}

/** True when `text` holds no whitespace, control character, `<`, `>` or `"`. */
export function hasOnlyUriCharacters(text: string): boolean {
  return !NEVER_IN_URI.test(text);
}

/**
 * True when `text` is acceptable as an absolute-URI (RFC 3986 §4.3) inside a Coded-URL
 * (RFC 4918 §10.1): a scheme, a colon, and only characters that may appear in a URI.
 */
export function isAbsoluteUri(text: string): boolean {
  return hasUriScheme(text) && hasOnlyUriCharacters(text);
}
