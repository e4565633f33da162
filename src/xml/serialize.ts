import { escapeAttribute, escapeText, isNcName } from './chars';
import { PrefixTable, qualify } from './prefixes';
import { isElement, XmlElement } from './tree';

/**
 * Writing a parsed element back as a self-contained XML fragment: this is how dead property
 * values and lock owners are stored so they come back "exactly as sent" — same expanded names,
 * attributes and text (RFC 4918 §4.3) — while prefixes are chosen anew.
 */

/**
 * Returns `el` and its subtree as an XML fragment (no XML declaration). Every namespace used is
 * declared once on `el` itself, the outermost element of the fragment, so the fragment means the
 * same wherever it is inserted; names in no namespace stay unprefixed and no default namespace is
 * ever declared. Text and attribute values are escaped; characters XML cannot carry become U+FFFD.
 * Throws TypeError for a local name that is not an NCName or a name in the xmlns namespace.
 */
export function serializeElement(el: XmlElement): string {
  const table = new PrefixTable();
  assignPrefixes(el, table);
  const parts: string[] = [];
  writeElement(el, table, parts, table.declarations());
  return parts.join('');
}

function assignPrefixes(el: XmlElement, table: PrefixTable): void {
  if (!isNcName(el.local)) throw new TypeError(`bad element name "${el.local}"`);
  table.prefixFor(el.ns);
  for (const attr of el.attributes) {
    if (!isNcName(attr.local)) throw new TypeError(`bad attribute name "${attr.local}"`);
    table.prefixFor(attr.ns);
  }
  for (const child of el.children) if (isElement(child)) assignPrefixes(child, table);
}

function writeElement(el: XmlElement, table: PrefixTable, parts: string[], declarations: string): void {
  const name = qualify(table.prefixFor(el.ns), el.local);
  parts.push('<', name, declarations);
  for (const attr of el.attributes) {
    parts.push(' ', qualify(table.prefixFor(attr.ns), attr.local), '="', escapeAttribute(attr.value), '"');
  }
  if (el.children.length === 0) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  for (const child of el.children) {
    if (isElement(child)) writeElement(child, table, parts, '');
    else parts.push(escapeText(child.text));
  }
  parts.push('</', name, '>');
}
