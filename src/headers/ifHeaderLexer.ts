import { readEntityTag } from './entityTag';
import { HeaderSyntaxError } from './headerSyntaxError';
import { hasOnlyUriCharacters } from './uriSyntax';

/**
 * The lexer of the WebDAV If header (RFC 4918 §10.4). It cuts the value into five kinds of
 * token and skips linear whitespace between them (RFC 4918 uses the RFC 2616 implied *LWS
 * rule), so `(<t>)(Not<DAV:no-lock>)` and `( <t> ) ( Not <DAV:no-lock> )` lex the same:
 *
 *   "("  ")"  "Not"  "<" text ">"  "[" entity-tag "]"
 *
 * Which `<...>` is a Resource-Tag and which a State-token is the parser's business.
 */
export type IfToken =
  | { kind: 'open-list'; at: number }
  | { kind: 'close-list'; at: number }
  | { kind: 'not'; at: number }
  | { kind: 'angle'; text: string; at: number } // "<" text ">", text without the brackets
  | { kind: 'etag'; etag: string; at: number }; // "[" entity-tag "]", tag as written

function fail(detail: string, at: number): never {
  throw new HeaderSyntaxError('If', `${detail} at offset ${at}`);
}

function isLinearWhitespace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (isLinearWhitespace(text[i])) i += 1;
  return i;
}

/** "<" text ">": text is non-empty and holds no whitespace, control, "<" or `"`. */
function readAngle(text: string, at: number): { token: IfToken; end: number } {
  const close = text.indexOf('>', at + 1);
  if (close < 0) fail('unterminated <', at);
  const inner = text.slice(at + 1, close);
  if (inner === '') fail('empty <>', at);
  if (!hasOnlyUriCharacters(inner)) fail('whitespace or forbidden character inside <...>', at);
  return { token: { kind: 'angle', text: inner, at }, end: close + 1 };
}

/** "[" entity-tag "]", whitespace allowed inside the brackets around the tag. */
function readBracketedEtag(text: string, at: number): { token: IfToken; end: number } {
  const tagStart = skipWhitespace(text, at + 1);
  const read = readEntityTag(text, tagStart);
  if (read === null) {
    fail(text.indexOf(']', at) < 0 ? 'unterminated [' : 'malformed entity-tag', at);
  }
  const close = skipWhitespace(text, read.end);
  if (text[close] !== ']') fail('unterminated [', at);
  return { token: { kind: 'etag', etag: read.tag, at }, end: close + 1 };
}

/**
 * Cuts an If header value into tokens.
 * Returns the tokens in order; [] for a blank value (the parser rejects that).
 * @throws HeaderSyntaxError on an unterminated `<` or `[`, an empty `<>`, whitespace inside
 *   `<...>`, a malformed entity-tag, or any character that starts no token.
 */
export function tokenizeIfHeader(text: string): IfToken[] {
  const tokens: IfToken[] = [];
  let i = skipWhitespace(text, 0);
  while (i < text.length) {
    const ch = text[i];
    if (ch === '(') {
      tokens.push({ kind: 'open-list', at: i });
      i += 1;
    } else if (ch === ')') {
      tokens.push({ kind: 'close-list', at: i });
      i += 1;
    } else if (ch === '<') {
      const { token, end } = readAngle(text, i);
      tokens.push(token);
      i = end;
    } else if (ch === '[') {
      const { token, end } = readBracketedEtag(text, i);
      tokens.push(token);
      i = end;
    } else if (text.slice(i, i + 3).toLowerCase() === 'not') {
      tokens.push({ kind: 'not', at: i }); // "Not" is case-insensitive: ABNF literals are (RFC 5234 §2.3)
      i += 3;
    } else {
      fail(`unexpected character ${JSON.stringify(ch)}`, i);
    }
    i = skipWhitespace(text, i);
  }
  return tokens;
}
