import { isXmlCodePoint } from './chars';
import { XmlError } from './xmlError';

/**
 * A lexical pass over the whole document before fast-xml-parser sees it. fast-xml-parser is not a
 * strict parser, so this pass decides what it lets through or gets wrong:
 * - DOCTYPE and ENTITY declarations are refused (entity expansion attacks; architecture rule 10);
 * - entity references other than the five predefined ones are refused; numeric character
 *   references must name a character XML 1.0 §2.2 allows (XML 1.0 §4.1);
 * - comments may not contain `--` (§2.5), text may not contain `]]>` (§2.4), attribute values may
 *   not contain `<` (§3.1), comments, CDATA sections, PIs and tags must be closed;
 * - one root element, only white space, comments and PIs around it (§2.1);
 * - the element count and the nesting depth are bounded before any tree is built.
 */

export interface ScanLimits {
  maxElements: number;
  maxDepth: number;
}

const PREDEFINED_ENTITIES = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);
const REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|([^\s&;<>"'#][^\s&;<>"']*))?(;?)/g;

/**
 * Checks the markup of `doc` (already decoded to characters) and returns nothing.
 * Throws XmlError 'forbidden' for DOCTYPE/ENTITY declarations and undeclared entities,
 * 'too-large' when the limits are passed, 'malformed' for the other faults listed above.
 */
export function scanXmlMarkup(doc: string, limits: ScanLimits): void {
  let elements = 0;
  let depth = 0;
  let rootSeen = false;
  let pos = 0;
  while (pos < doc.length) {
    const lt = doc.indexOf('<', pos);
    const textEnd = lt === -1 ? doc.length : lt;
    if (textEnd > pos) checkText(doc.slice(pos, textEnd), depth === 0);
    if (lt === -1) break;
    if (doc.startsWith('<!--', lt)) {
      pos = skipComment(doc, lt);
    } else if (doc.startsWith('<![CDATA[', lt)) {
      if (depth === 0) throw new XmlError('malformed', 'CDATA outside the root element');
      pos = skipPast(doc, lt + 9, ']]>', 'unterminated CDATA section');
    } else if (doc.startsWith('<?', lt)) {
      pos = skipPast(doc, lt + 2, '?>', 'unterminated processing instruction');
    } else if (doc.startsWith('<!', lt)) {
      if (doc.startsWith('<!DOCTYPE', lt)) throw new XmlError('forbidden', 'DOCTYPE declarations are not accepted');
      if (doc.startsWith('<!ENTITY', lt)) throw new XmlError('forbidden', 'ENTITY declarations are not accepted');
      throw new XmlError('malformed', `unexpected markup declaration at offset ${lt}`);
    } else if (doc.startsWith('</', lt)) {
      pos = skipTag(doc, lt);
      depth--;
    } else {
      // XML 1.0 §2.1: one root element, nothing but misc (comments, PIs, spaces) after it.
      if (depth === 0 && rootSeen) throw new XmlError('malformed', 'more than one root element');
      rootSeen = true;
      pos = skipTag(doc, lt);
      elements++;
      if (elements > limits.maxElements) {
        throw new XmlError('too-large', `more than ${limits.maxElements} elements`);
      }
      if (depth + 1 > limits.maxDepth) throw new XmlError('too-large', `nesting deeper than ${limits.maxDepth}`);
      if (doc[pos - 2] !== '/') depth++;
    }
  }
}

/** Returns the index just after the comment opened at `lt`. XML 1.0 §2.5: no `--` inside. */
function skipComment(doc: string, lt: number): number {
  const bodyStart = lt + 4;
  const dashes = doc.indexOf('--', bodyStart);
  if (dashes === -1) throw new XmlError('malformed', 'unterminated comment');
  if (doc[dashes + 2] !== '>') throw new XmlError('malformed', "'--' inside a comment");
  return dashes + 3;
}

function skipPast(doc: string, from: number, terminator: string, fault: string): number {
  const end = doc.indexOf(terminator, from);
  if (end === -1) throw new XmlError('malformed', fault);
  return end + terminator.length;
}

/**
 * Returns the index just after the tag opened at `lt`, stepping over quoted attribute values
 * (which may hold `>`) and checking the references inside them.
 */
function skipTag(doc: string, lt: number): number {
  let i = lt + 1;
  while (i < doc.length) {
    const ch = doc[i];
    if (ch === '>') return i + 1;
    if (ch === '<') throw new XmlError('malformed', `'<' inside a tag at offset ${i}`);
    if (ch === '"' || ch === "'") {
      const close = doc.indexOf(ch, i + 1);
      if (close === -1) throw new XmlError('malformed', 'unterminated attribute value');
      const value = doc.slice(i + 1, close);
      // XML 1.0 §3.1 AttValue: no '<' in attribute values.
      if (value.includes('<')) throw new XmlError('malformed', "'<' inside an attribute value");
      checkReferences(value);
      i = close + 1;
    } else {
      i++;
    }
  }
  throw new XmlError('malformed', 'unterminated tag');
}

/**
 * Character data between markup: §2.4 forbids `]]>`; references are checked. Outside the root
 * element only white space may appear (§2.1, §2.8 Misc).
 */
function checkText(text: string, outsideRoot: boolean): void {
  if (outsideRoot && !/^[ \t\r\n]*$/.test(text)) throw new XmlError('malformed', 'text outside the root element');
  if (text.includes(']]>')) throw new XmlError('malformed', "']]>' in character data");
  checkReferences(text);
}

/**
 * Every `&` must start a well-formed reference (XML 1.0 §4.1); named ones must be predefined
 * (§4.6, we accept no DTD), numeric ones must denote an allowed character (§2.2).
 */
function checkReferences(s: string): void {
  if (!s.includes('&')) return;
  REFERENCE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = REFERENCE.exec(s)) !== null) {
    const [whole, hex, dec, name, semicolon] = m;
    if (semicolon !== ';' || whole === '&;') throw new XmlError('malformed', `bare '&' or unterminated reference`);
    if (name !== undefined) {
      if (!PREDEFINED_ENTITIES.has(name)) throw new XmlError('forbidden', `entity reference &${name}; is not accepted`);
      continue;
    }
    const digits = hex ?? dec;
    const codePoint = digits.length > 8 ? Infinity : parseInt(digits, hex !== undefined ? 16 : 10);
    if (!isXmlCodePoint(codePoint)) {
      throw new XmlError('malformed', `character reference ${whole} names a character XML does not allow`);
    }
  }
}
