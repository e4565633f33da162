import { attributeOf, childElements, DAV_NS, findChildren, XML_NS, XmlElement, XmlName } from './tree';
import { XmlError } from './xmlError';

/**
 * Typed request bodies (RFC 4918 §14). Elements this code does not know, in DAV: or elsewhere,
 * are ignored wherever they appear beside known ones (RFC 4918 §17, extensibility). Every
 * function throws XmlError('unprocessable') for a well-formed body that does not say what its
 * method needs (RFC 4918 §11.2 allows 422; the caller may answer 400 where litmus expects it).
 */

/** What a PROPFIND asks for (RFC 4918 §9.1, §14.20). */
export type PropfindRequest =
  | { kind: 'allprop'; include: XmlName[] } // §14.2 allprop (+ optional §14.8 include)
  | { kind: 'propname' }
  | { kind: 'prop'; names: XmlName[] };

/**
 * What a PROPFIND without a body asks for: one object for all of them, so what is kept per parsed
 * request (renderedMembers.ts) serves Windows Explorer's listings too, as parsedBodyCache.ts does
 * for a body sent again. Frozen: no one may change what every such request shares.
 */
const NO_BODY_ALLPROP: PropfindRequest = Object.freeze({ kind: 'allprop', include: Object.freeze([]) as unknown as XmlName[] });

/**
 * Returns the PROPFIND request in `root`; null (no body) means allprop (RFC 4918 §9.1).
 * Property names are returned once each, in first-seen order.
 * Throws XmlError('unprocessable') for a root other than DAV:propfind, for none or more than one
 * of prop / allprop / propname (§14.20: `propname | (allprop, include?) | prop`), or for an
 * include without allprop.
 */
export function parsePropfind(root: XmlElement | null): PropfindRequest {
  if (root === null) return NO_BODY_ALLPROP;
  expectRoot(root, 'propfind');
  const props = findChildren(root, DAV_NS, 'prop');
  const allprops = findChildren(root, DAV_NS, 'allprop');
  const propnames = findChildren(root, DAV_NS, 'propname');
  const includes = findChildren(root, DAV_NS, 'include');
  const choices = props.length + allprops.length + propnames.length;
  if (choices === 0) throw new XmlError('unprocessable', 'propfind holds none of prop, allprop, propname');
  if (choices > 1) throw new XmlError('unprocessable', 'propfind holds more than one of prop, allprop, propname');
  if (includes.length > 0 && allprops.length === 0) {
    throw new XmlError('unprocessable', 'include is only allowed with allprop');
  }
  if (propnames.length === 1) return { kind: 'propname' };
  if (allprops.length === 1) return { kind: 'allprop', include: uniqueNames(includes.flatMap(childElements)) };
  return { kind: 'prop', names: uniqueNames(childElements(props[0])) };
}

/** One instruction of a PROPPATCH (RFC 4918 §14.26 set, §14.23 remove). */
export type PropPatchOperation =
  | { op: 'set'; name: XmlName; value: XmlElement } // value: the property element itself
  | { op: 'remove'; name: XmlName };

/**
 * Returns the operations of a DAV:propertyupdate in document order, across all set and remove
 * elements (RFC 4918 §9.2: instructions are processed in document order). A set's value is the
 * property element with its attributes and children; when it has no xml:lang of its own, the
 * xml:lang in scope (on prop, set or propertyupdate) is copied onto it, since RFC 4918 §4.3
 * requires the language in scope to be kept with the value.
 * An empty propertyupdate (no set or remove; hdav's COPY sends one) is no operation at all and
 * returns [], as Apache answers it with 207 (README, "Tolerances").
 * Throws XmlError('unprocessable') for another root element, a set or remove without a DAV:prop,
 * or a DAV:prop that names no property.
 */
export function parseProppatch(root: XmlElement): PropPatchOperation[] {
  expectRoot(root, 'propertyupdate');
  const rootLang = langOf(root, undefined);
  const operations: PropPatchOperation[] = [];
  for (const instruction of childElements(root)) {
    if (instruction.ns !== DAV_NS || (instruction.local !== 'set' && instruction.local !== 'remove')) continue;
    const op = instruction.local;
    const props = findChildren(instruction, DAV_NS, 'prop');
    if (props.length === 0) throw new XmlError('unprocessable', `${op} without prop`);
    const instructionLang = langOf(instruction, rootLang);
    for (const prop of props) {
      const properties = childElements(prop);
      if (properties.length === 0) throw new XmlError('unprocessable', `empty prop in ${op}`);
      const propLang = langOf(prop, instructionLang);
      for (const property of properties) {
        const name = { ns: property.ns, local: property.local };
        if (op === 'set') operations.push({ op, name, value: withLang(property, propLang) });
        else operations.push({ op, name });
      }
    }
  }
  return operations;
}

/** What a LOCK request body asks for (RFC 4918 §9.10, §14.11 lockinfo). */
export interface LockRequest {
  scope: 'exclusive' | 'shared';
  owner: XmlElement | null; // the DAV:owner element as sent (§14.17), or null
}

/**
 * Returns the lock request in a DAV:lockinfo. The owner is the DAV:owner element itself, kept
 * whole so it can be returned as sent (§14.17), with the xml:lang in scope copied onto it.
 * Throws XmlError('unprocessable') for another root element, a missing or repeated lockscope or
 * locktype, a lockscope other than exactly one of exclusive / shared, a locktype other than
 * exactly DAV:write (§14.15: write is the only lock type defined), or a repeated owner.
 */
export function parseLockinfo(root: XmlElement): LockRequest {
  expectRoot(root, 'lockinfo');
  const scopeValue = onlyChildOf(root, 'lockscope');
  let scope: 'exclusive' | 'shared';
  if (scopeValue.ns === DAV_NS && (scopeValue.local === 'exclusive' || scopeValue.local === 'shared')) {
    scope = scopeValue.local;
  } else {
    throw new XmlError('unprocessable', `unsupported lock scope {${scopeValue.ns}}${scopeValue.local}`);
  }
  const typeValue = onlyChildOf(root, 'locktype');
  if (typeValue.ns !== DAV_NS || typeValue.local !== 'write') {
    throw new XmlError('unprocessable', `unsupported lock type {${typeValue.ns}}${typeValue.local}`);
  }
  const owners = findChildren(root, DAV_NS, 'owner');
  if (owners.length > 1) throw new XmlError('unprocessable', 'lockinfo holds more than one owner');
  const owner = owners.length === 1 ? withLang(owners[0], langOf(root, undefined)) : null;
  return { scope, owner };
}

function expectRoot(root: XmlElement, local: string): void {
  if (root.ns !== DAV_NS || root.local !== local) {
    throw new XmlError('unprocessable', `expected DAV:${local} as root element, got {${root.ns}}${root.local}`);
  }
}

/** Returns the single element inside the single DAV:`local` child of `root` (lockscope, locktype). */
function onlyChildOf(root: XmlElement, local: string): XmlElement {
  const holders = findChildren(root, DAV_NS, local);
  if (holders.length !== 1) {
    throw new XmlError('unprocessable', holders.length === 0 ? `lockinfo without ${local}` : `${local} repeated`);
  }
  const inside = childElements(holders[0]);
  if (inside.length !== 1) throw new XmlError('unprocessable', `${local} must hold exactly one element`);
  return inside[0];
}

function uniqueNames(elements: XmlElement[]): XmlName[] {
  const seen = new Set<string>();
  const names: XmlName[] = [];
  for (const element of elements) {
    const key = `${element.ns} ${element.local}`;
    if (seen.has(key)) continue;
    seen.add(key);
    names.push({ ns: element.ns, local: element.local });
  }
  return names;
}

/** Returns the xml:lang of `el`, or `inherited` when it has none (XML 1.0 §2.12 scoping). */
function langOf(el: XmlElement, inherited: string | undefined): string | undefined {
  return attributeOf(el, XML_NS, 'lang') ?? inherited;
}

/** Returns `el`, or a shallow copy carrying xml:lang="`lang`" when it inherits a language. */
function withLang(el: XmlElement, lang: string | undefined): XmlElement {
  if (lang === undefined || attributeOf(el, XML_NS, 'lang') !== undefined) return el;
  return { ...el, attributes: [...el.attributes, { ns: XML_NS, local: 'lang', value: lang }] };
}
