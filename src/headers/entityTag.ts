/**
 * Entity-tags (RFC 9110 §8.8.3), shared by If-Match, If-None-Match, If-Range and the If header.
 *
 *   entity-tag = [ weak ] opaque-tag
 *   weak       = %s"W/"                      ; case-sensitive
 *   opaque-tag = DQUOTE *etagc DQUOTE
 *   etagc      = %x21 / %x23-7E / obs-text   ; anything visible but DQUOTE, no escapes
 *
 * Tags are kept exactly as written (`"abc"`, `W/"abc"`); comparisons look inside them.
 * We also accept SP and HTAB inside the quotes: RFC 2616 defined opaque-tag as a quoted-string,
 * and RFC 4918's own If examples (§10.4.6, §10.4.9) write tags such as "I am an ETag".
 */

/** True when `c` may appear between the quotes of an opaque-tag (RFC 9110 §8.8.3, plus SP/HTAB). */
function isEtagChar(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x21 || (c >= 0x23 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/**
 * Reads one entity-tag starting exactly at `start` in `text`.
 * Returns the tag as written and the index just after it, or null when no well-formed
 * entity-tag starts there (missing quote, unterminated, forbidden character).
 */
export function readEntityTag(text: string, start: number): { tag: string; end: number } | null {
  let i = start;
  if (text.startsWith('W/', i)) i += 2;
  if (text[i] !== '"') return null;
  i += 1;
  while (i < text.length && text[i] !== '"') {
    if (!isEtagChar(text.charCodeAt(i))) return null;
    i += 1;
  }
  if (i >= text.length) return null; // no closing quote
  return { tag: text.slice(start, i + 1), end: i + 1 };
}

/** True when `text` is exactly one well-formed entity-tag. */
export function isEntityTag(text: string): boolean {
  const read = readEntityTag(text, 0);
  return read !== null && read.end === text.length;
}

function isWeak(tag: string): boolean {
  return tag.startsWith('W/');
}

function opaquePart(tag: string): string {
  return isWeak(tag) ? tag.slice(2) : tag;
}

/**
 * Strong comparison (RFC 9110 §8.8.3.2): true when neither tag is weak and both opaque-tags
 * are identical character by character.
 */
export function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && a === b;
}

/** Weak comparison (RFC 9110 §8.8.3.2): true when the opaque-tags are identical, W/ ignored. */
export function weakMatch(a: string, b: string): boolean {
  return opaquePart(a) === opaquePart(b);
}
