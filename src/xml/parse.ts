import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeXmlBytes } from './charset';
import { indexOfInvalidXmlChar } from './chars';
import { resolveElementName, resolveAttributes, NamespaceScope, ROOT_SCOPE, withDeclarations } from './namespaces';
import { scanXmlMarkup } from './scan';
import { XmlElement, XmlNode } from './tree';
import { XmlError } from './xmlError';

/**
 * Namespace-aware, strict-enough XML parsing over fast-xml-parser (architecture rule 10):
 * decode bytes -> refuse characters XML forbids -> lexical scan (DOCTYPE, entities, limits) ->
 * XMLValidator -> XMLParser (order preserved, values untouched) -> namespace resolution.
 */

export interface XmlLimits {
  /** Most elements accepted in one document (default 10,000). */
  maxElements?: number;
  /** Deepest element nesting accepted, the root being depth 1 (default 64). */
  maxDepth?: number;
}

export const DEFAULT_MAX_ELEMENTS = 10_000;
export const DEFAULT_MAX_DEPTH = 64;

// fast-xml-parser refuses (or renames) element names such as `__proto__`, `constructor` or
// `toString`. Every element name gets this prefix on the way in (it is not an XML name character,
// so it cannot collide with `#text`, `#cdata` or `:@`) and loses it on the way out.
const NAME_MARK = '$';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: NAME_MARK,
  transformTagName: (name) => NAME_MARK + name,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false, // references are checked by scan.ts and decoded here, once
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  allowBooleanAttributes: false,
  // The depth is bounded by scanXmlMarkup before the parser runs.
  maxNestedTags: Number.MAX_SAFE_INTEGER,
});

/** One node of fast-xml-parser's `preserveOrder` output. */
type OrderedNode = Record<string, unknown>;

/**
 * Parses a request body and returns its root element, namespaces resolved.
 * Throws XmlError:
 * - 'malformed' for an empty or ill-formed document, invalid UTF-8 (or undeclared encoding),
 *   a character XML 1.0 forbids, an undeclared prefix, `xmlns:p=""`, a duplicate attribute;
 * - 'forbidden' for `<!DOCTYPE`, `<!ENTITY`, and entity references other than the predefined five;
 * - 'too-large' for more than `maxElements` elements or nesting deeper than `maxDepth`.
 */
export function parseXmlDocument(body: Buffer | string, limits?: XmlLimits): XmlElement {
  let doc = typeof body === 'string' ? body : decodeXmlBytes(body);
  if (doc.charCodeAt(0) === 0xfeff) doc = doc.slice(1);
  if (/^[ \t\r\n]*$/.test(doc)) throw new XmlError('malformed', 'empty document');
  const bad = indexOfInvalidXmlChar(doc);
  if (bad !== -1) throw new XmlError('malformed', `character not allowed in XML at offset ${bad}`);
  scanXmlMarkup(doc, {
    maxElements: limits?.maxElements ?? DEFAULT_MAX_ELEMENTS,
    maxDepth: limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
  });
  const verdict = XMLValidator.validate(doc, { allowBooleanAttributes: false });
  if (verdict !== true) {
    throw new XmlError('malformed', `${verdict.err.msg} (line ${verdict.err.line}, column ${verdict.err.col})`);
  }
  let ordered: OrderedNode[];
  try {
    ordered = parser.parse(doc) as OrderedNode[];
  } catch (err) {
    throw new XmlError('malformed', err instanceof Error ? err.message : 'unparseable document');
  }
  return convertRoot(ordered);
}

/** XML 1.0 §2.1: exactly one root element; only whitespace (comments, PIs) around it. */
function convertRoot(ordered: OrderedNode[]): XmlElement {
  let root: XmlElement | undefined;
  for (const node of ordered) {
    if (typeof node['#text'] === 'string') {
      if (!/^[ \t\r\n]*$/.test(node['#text'])) throw new XmlError('malformed', 'text outside the root element');
      continue;
    }
    if (node['#cdata'] !== undefined) throw new XmlError('malformed', 'CDATA outside the root element');
    if (root !== undefined) throw new XmlError('malformed', 'more than one root element');
    root = convertElement(node, ROOT_SCOPE);
  }
  if (root === undefined) throw new XmlError('malformed', 'no root element');
  return root;
}

function convertElement(node: OrderedNode, parentScope: NamespaceScope): XmlElement {
  const key = Object.keys(node).find((k) => k.startsWith(NAME_MARK));
  if (key === undefined) throw new XmlError('malformed', 'unexpected node in parser output');
  const qname = stripMarks(key);
  const rawAttributes = readRawAttributes(node[':@']);
  const scope = withDeclarations(parentScope, rawAttributes);
  const name = resolveElementName(qname, scope);
  const attributes = resolveAttributes(rawAttributes, scope);
  const children: XmlNode[] = [];
  const content = node[key];
  if (!Array.isArray(content)) throw new XmlError('malformed', 'unexpected element content in parser output');
  for (const child of content as OrderedNode[]) {
    const text = textOfOrderedNode(child);
    if (text === undefined) {
      children.push(convertElement(child, scope));
    } else if (text !== '') {
      const last = children[children.length - 1];
      // Text around a dropped comment or PI, and CDATA next to text, become one text node.
      if (last !== undefined && 'text' in last) last.text += text;
      else children.push({ text });
    }
  }
  return { ns: name.ns, local: name.local, attributes, children };
}

/** Returns the characters of a text or CDATA node, or undefined for an element node. */
function textOfOrderedNode(node: OrderedNode): string | undefined {
  const text = node['#text'];
  if (typeof text === 'string') return decodeReferences(text);
  const cdata = node['#cdata'];
  if (Array.isArray(cdata)) {
    // CDATA content is literal: no reference is decoded inside it (XML 1.0 §2.7).
    return (cdata as OrderedNode[]).map((part) => String(part['#text'] ?? '')).join('');
  }
  return undefined;
}

function stripMarks(key: string): string {
  // A self-closing tag gets the mark twice (fast-xml-parser transforms its name twice).
  let i = 0;
  while (key[i] === NAME_MARK) i++;
  return key.slice(i);
}

/** Returns [qualified name, value] pairs, values normalized (§3.3.3) and references decoded. */
function readRawAttributes(attrs: unknown): Array<[string, string]> {
  if (attrs === undefined || attrs === null) return [];
  const pairs: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(attrs as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new XmlError('malformed', `attribute ${key} has no value`);
    // XML 1.0 §3.3.3: literal whitespace characters become spaces, references are then decoded.
    pairs.push([key.slice(NAME_MARK.length), decodeReferences(value.replace(/[\t\n\r]/g, ' '))]);
  }
  return pairs;
}

const ENTITY_VALUES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/g;

/** Decodes the references scan.ts has already checked; each is decoded exactly once. */
function decodeReferences(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(REFERENCE, (_whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return ENTITY_VALUES[name];
    return String.fromCodePoint(parseInt((hex ?? dec) as string, hex !== undefined ? 16 : 10));
  });
}
