import { isNcName } from './chars';
import { XML_NS, XMLNS_NS, XmlAttribute, XmlName } from './tree';
import { XmlError } from './xmlError';

/**
 * Namespace scopes (Namespaces in XML 1.0, third edition). A scope maps a prefix to a namespace
 * name; the key '' holds the default namespace when one is declared.
 */
export type NamespaceScope = ReadonlyMap<string, string>;

/** The scope outside the root: only the predefined `xml` prefix (Namespaces §3). */
export const ROOT_SCOPE: NamespaceScope = new Map([['xml', XML_NS]]);

/**
 * Returns the scope inside an element carrying `attributes` ([qualified name, value] pairs):
 * `parent` itself when the element declares nothing. Throws XmlError('malformed') for the
 * declarations Namespaces in XML §3 forbids: `xmlns:p=""` (no undeclaring in 1.0), binding
 * `xmlns`, rebinding `xml`, binding either reserved namespace name to another prefix.
 */
export function withDeclarations(parent: NamespaceScope, attributes: Array<[string, string]>): NamespaceScope {
  let scope: Map<string, string> | undefined;
  for (const [qname, value] of attributes) {
    let prefix: string;
    if (qname === 'xmlns') prefix = '';
    else if (qname.startsWith('xmlns:')) prefix = qname.slice(6);
    else continue;
    checkDeclaration(prefix, value);
    if (prefix === 'xml') continue; // declaring xml to its own name is allowed and changes nothing
    scope ??= new Map(parent);
    if (prefix === '' && value === '') scope.delete(''); // xmlns="" undeclares the default namespace
    else scope.set(prefix, value);
  }
  return scope ?? parent;
}

function checkDeclaration(prefix: string, value: string): void {
  if (prefix !== '' && !isNcName(prefix)) throw new XmlError('malformed', `bad namespace prefix "${prefix}"`);
  if (prefix === 'xmlns') throw new XmlError('malformed', 'the xmlns prefix cannot be declared');
  if (prefix === 'xml') {
    if (value !== XML_NS) throw new XmlError('malformed', 'the xml prefix cannot be rebound');
    return;
  }
  if (value === XML_NS || value === XMLNS_NS) {
    throw new XmlError('malformed', `namespace ${value} cannot be bound to another prefix`);
  }
  if (prefix !== '' && value === '') {
    throw new XmlError('malformed', `empty namespace name for prefix "${prefix}"`);
  }
}

/**
 * Returns the expanded name of an element: an unprefixed name takes the default namespace.
 * Throws XmlError('malformed') for an undeclared prefix, the `xmlns` prefix, or a name that is
 * not `NCName` or `NCName:NCName`.
 */
export function resolveElementName(qname: string, scope: NamespaceScope): XmlName {
  const { prefix, local } = splitQName(qname);
  if (prefix === undefined) return { ns: scope.get('') ?? '', local };
  if (prefix === 'xmlns') throw new XmlError('malformed', `element name "${qname}" uses the xmlns prefix`);
  return { ns: lookupPrefix(prefix, scope), local };
}

/**
 * Returns the attributes of an element other than namespace declarations, expanded: an
 * unprefixed attribute is in no namespace (Namespaces §6.2), the default namespace does not apply.
 * Throws XmlError('malformed') for an undeclared prefix, a bad name, or two attributes with the
 * same expanded name (Namespaces §6.3).
 */
export function resolveAttributes(attributes: Array<[string, string]>, scope: NamespaceScope): XmlAttribute[] {
  const resolved: XmlAttribute[] = [];
  const seen = new Set<string>();
  for (const [qname, value] of attributes) {
    if (qname === 'xmlns' || qname.startsWith('xmlns:')) continue;
    const { prefix, local } = splitQName(qname);
    const ns = prefix === undefined ? '' : lookupPrefix(prefix, scope);
    const key = `${ns} ${local}`; // a space occurs in neither a namespace URI nor a local name
    if (seen.has(key)) throw new XmlError('malformed', `attribute {${ns}}${local} appears twice`);
    seen.add(key);
    resolved.push({ ns, local, value });
  }
  return resolved;
}

function lookupPrefix(prefix: string, scope: NamespaceScope): string {
  const ns = scope.get(prefix);
  if (ns === undefined) throw new XmlError('malformed', `undeclared namespace prefix "${prefix}"`);
  return ns;
}

function splitQName(qname: string): { prefix: string | undefined; local: string } {
  const colon = qname.indexOf(':');
  if (colon === -1) {
    if (!isNcName(qname)) throw new XmlError('malformed', `bad name "${qname}"`);
    return { prefix: undefined, local: qname };
  }
  const prefix = qname.slice(0, colon);
  const local = qname.slice(colon + 1);
  if (!isNcName(prefix) || !isNcName(local)) throw new XmlError('malformed', `bad qualified name "${qname}"`);
  return { prefix, local };
}
