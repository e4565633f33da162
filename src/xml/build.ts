import { escapeAttribute, escapeText, isNcName } from './chars';
import { PrefixTable, qualify } from './prefixes';
import { DAV_NS } from './tree';

/**
 * The response builder: multistatus, prop, error bodies, lockdiscovery. Plain objects rendered
 * by string pieces and one `join`, no DOM; a PROPFIND over 1,000 members renders ~15,000 elements.
 */

/** A string is text (escaped on output); `{ raw }` is a serialized fragment inserted verbatim. */
export type OutNode = OutElement | string | { raw: string };

/**
 * An element to write. `attrs` keys are attribute names in no namespace, or `xml:`-prefixed
 * (`xml:lang`); values are escaped on output.
 */
export interface OutElement {
  ns: string;
  local: string;
  attrs?: Record<string, string>;
  children?: OutNode[];
}

/** Returns an OutElement named {ns, local} holding `children` in order. */
export function el(ns: string, local: string, ...children: OutNode[]): OutElement {
  return { ns, local, children };
}

/**
 * Returns a complete XML document: the declaration `<?xml version="1.0" encoding="utf-8"?>`, then
 * `root` with every namespace its OutElements use declared once, on the root (RFC 4918 §8.2 leaves
 * prefixes free). DAV: is `D`; `prefixes` maps other namespace names to the prefix wanted for
 * them; the rest get `ns1`, `ns2`... Elements in the empty namespace are unprefixed and no default
 * namespace is declared. Raw fragments must declare their own namespaces (serializeElement does).
 * Escapes `& < >` in text, also `"` in attributes; characters XML 1.0 forbids become U+FFFD.
 * Throws TypeError for an unusable prefix in `prefixes` or a bad attribute name; element local
 * names are trusted (they come from code or from parsed documents).
 */
export function renderXmlDocument(root: OutElement, prefixes?: Record<string, string>): string {
  const table = new PrefixTable(prefixes);
  assignPrefixes(root, table);
  const parts: string[] = ['<?xml version="1.0" encoding="utf-8"?>\n'];
  writeElement(root, table, parts, table.declarations());
  return parts.join('');
}

/**
 * A document written piece by piece (a streamed multistatus): `open` is the declaration and the
 * root's start tag declaring DAV: as `D`; each `fragment(child)` is one child of the root with the
 * other namespaces it uses declared on itself; `close` ends the root. Joined, the pieces are a
 * document meaning what renderXmlDocument would make of the same tree.
 */
export class StreamedXmlDocument {
  private static readonly INHERITED = new Set([DAV_NS]);
  private readonly rootName: string;

  constructor(private readonly root: { ns: typeof DAV_NS; local: string }) {
    this.rootName = qualify('D', root.local);
  }

  open(): string {
    return `<?xml version="1.0" encoding="utf-8"?>\n<${this.rootName} xmlns:D="${DAV_NS}">`;
  }

  fragment(child: OutElement): string {
    const table = new PrefixTable();
    table.prefixFor(DAV_NS);
    assignPrefixes(child, table);
    const parts: string[] = [];
    writeElement(child, table, parts, table.declarations(StreamedXmlDocument.INHERITED));
    return parts.join('');
  }

  close(): string {
    return `</${this.rootName}>\n`;
  }
}

function isOutElement(node: OutNode): node is OutElement {
  return typeof node === 'object' && (node as OutElement).local !== undefined;
}

function assignPrefixes(element: OutElement, table: PrefixTable): void {
  table.prefixFor(element.ns);
  if (element.children === undefined) return;
  for (const child of element.children) if (isOutElement(child)) assignPrefixes(child, table);
}

function writeElement(element: OutElement, table: PrefixTable, parts: string[], declarations: string): void {
  const name = qualify(table.prefixFor(element.ns), element.local);
  parts.push('<', name, declarations);
  if (element.attrs !== undefined) writeAttributes(element.attrs, parts);
  const children = element.children;
  if (children === undefined || children.length === 0) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  for (const child of children) {
    if (typeof child === 'string') parts.push(escapeText(child));
    else if (isOutElement(child)) writeElement(child, table, parts, '');
    else parts.push(child.raw);
  }
  parts.push('</', name, '>');
}

function writeAttributes(attrs: Record<string, string>, parts: string[]): void {
  for (const key of Object.keys(attrs)) {
    const local = key.startsWith('xml:') ? key.slice(4) : key;
    // `xmlns` would declare a default namespace and move unprefixed names into it.
    if (!isNcName(local) || key === 'xmlns') throw new TypeError(`bad attribute name "${key}"`);
    parts.push(' ', key, '="', escapeAttribute(attrs[key]), '"');
  }
}
