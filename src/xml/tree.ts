/**
 * The namespace-resolved XML tree. Names are always `{ns, local}` pairs (architecture rule 10):
 * prefixes are gone after parsing and are chosen anew when serializing.
 */

/** The WebDAV namespace (RFC 4918 §21). */
export const DAV_NS = 'DAV:';

/** The namespace bound to the predefined `xml:` prefix (Namespaces in XML 1.0 §3). */
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** The namespace of `xmlns` declarations; no element or attribute of ours may use it. */
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** An expanded name; ns '' means "in no namespace". */
export interface XmlName {
  ns: string;
  local: string;
}

/** An attribute other than a namespace declaration (those are consumed by the parser). */
export interface XmlAttribute {
  ns: string;
  local: string;
  value: string;
}

export interface XmlElement {
  ns: string;
  local: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
}

/** Character data (text and CDATA sections, merged when adjacent). */
export interface XmlText {
  text: string;
}

export type XmlNode = XmlElement | XmlText;

/** Returns true when the node is an element (not text). */
export function isElement(n: XmlNode): n is XmlElement {
  return (n as XmlElement).local !== undefined;
}

/** Returns the element children of `el`, in document order, text dropped. */
export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

/** Returns the first child element of `el` named {ns, local}, or undefined. */
export function findChild(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  for (const child of el.children) {
    if (isElement(child) && child.ns === ns && child.local === local) return child;
  }
  return undefined;
}

/** Returns every child element of `el` named {ns, local}, in document order. */
export function findChildren(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => isElement(c) && c.ns === ns && c.local === local);
}

/** Returns the concatenated text of the whole subtree of `el`, in document order. */
export function textOf(el: XmlElement): string {
  const parts: string[] = [];
  collectText(el, parts);
  return parts.join('');
}

function collectText(el: XmlElement, parts: string[]): void {
  for (const child of el.children) {
    if (isElement(child)) collectText(child, parts);
    else parts.push(child.text);
  }
}

/** Returns true when `a` and `b` name the same thing. */
export function sameName(a: XmlName, b: XmlName): boolean {
  return a.ns === b.ns && a.local === b.local;
}

/** Returns the value of the attribute {ns, local} on `el`, or undefined. */
export function attributeOf(el: XmlElement, ns: string, local: string): string | undefined {
  return el.attributes.find((a) => a.ns === ns && a.local === local)?.value;
}
