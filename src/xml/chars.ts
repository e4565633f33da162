/**
 * Character rules of XML 1.0 (§2.2 Char) and the escaping shared by `serialize.ts` and `build.ts`.
 *
 * Regexes work on UTF-16 code units (no `u` flag) so that lone surrogates can be matched.
 */

/**
 * Matches one character XML 1.0 §2.2 does not allow: C0 controls other than tab, LF and CR,
 * U+FFFE, U+FFFF and unpaired surrogates.
 */
const INVALID_XML_CHAR =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Returns the index of the first character XML 1.0 forbids in `s`, or -1. */
export function indexOfInvalidXmlChar(s: string): number {
  const m = INVALID_XML_CHAR.exec(s);
  return m === null ? -1 : m.index;
}

/** Returns true when the code point may appear in an XML 1.0 document (§2.2 Char). */
export function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

// Text: `&` and `<` must be escaped; `>` is escaped too so `]]>` can never appear; CR is written
// as a reference so the parser's end-of-line normalization (XML 1.0 §2.11) cannot turn it into LF.
const TEXT_SPECIAL = new RegExp(`[&<>\\r]|${INVALID_XML_CHAR.source}`, 'g');
// Attributes: also `"` (we always quote with `"`), and TAB/LF/CR as references, because
// attribute-value normalization (XML 1.0 §3.3.3) would turn literal ones into spaces.
const ATTRIBUTE_SPECIAL = new RegExp(`[&<>"\\t\\n\\r]|${INVALID_XML_CHAR.source}`, 'g');

const REPLACEMENTS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function replaceSpecial(ch: string): string {
  return REPLACEMENTS[ch] ?? '\uFFFD';
}

// Cheap screens without look-around: most strings (hrefs, dates, numbers) match neither and are
// returned as they are. Any surrogate sends a string to the exact (slower) path.
const TEXT_SCREEN = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const ATTRIBUTE_SCREEN = /[&<>"\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Returns `s` escaped for use as element content. Characters XML 1.0 cannot carry become
 * U+FFFD so the output is always well-formed.
 */
export function escapeText(s: string): string {
  return TEXT_SCREEN.test(s) ? s.replace(TEXT_SPECIAL, replaceSpecial) : s;
}

/** Returns `s` escaped for use inside a `"`-quoted attribute value (invalid characters => U+FFFD). */
export function escapeAttribute(s: string): string {
  return ATTRIBUTE_SCREEN.test(s) ? s.replace(ATTRIBUTE_SPECIAL, replaceSpecial) : s;
}

/** Returns true when `s` is an NCName: an XML 1.0 §2.3 Name without any colon (Namespaces in XML §3). */
export function isNcName(s: string): boolean {
  return NC_NAME.test(s);
}

const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NC_NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
