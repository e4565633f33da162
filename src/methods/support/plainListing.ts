/**
 * The common PROPFIND written without the general machinery, for a member no lock covers: a `prop` request naming DAV: live properties whose values are text or
 * DAV: elements (getcontentlength, getetag, getlastmodified, resourcetype, displayname,
 * getcontenttype, creationdate, lockdiscovery, supportedlock), and `allprop` without an include
 * (Windows Explorer's listing, Cyberduck's). Each such member is one string built straight from its
 * stat, where the general path (propertyValues.ts + xml/build.ts) builds a tree of objects and a
 * prefix table per member, and looks up its locks one by one: a listing of 1,000 files spent most
 * of its time allocating and collecting them. The values come from the same live property table,
 * and the text is what the general path writes for the same member (RFC 4918 §9.1, §14.16, §14.22,
 * §14.24): `D` for DAV:, the 200 propstat first, then a 404 one with the properties the member
 * does not have (none for allprop, which names only what is there). A member's dead properties
 * (Windows Explorer stores four Win32 ones on every file it writes) are written as stored: under a
 * name asked for, in place of a live one of that name, and for allprop after the live ones.
 *
 * A request may also name properties keepdav defines no live property for, in any namespace, as
 * the clients that mount a share do (davfs2 asks for `apache:executable`, Finder for
 * `A:appledoubleheader`): on a member with no dead property they are always in the 404 propstat,
 * their namespaces declared on the response as the general path declares them (`ns1`, `ns2`... in
 * order of first use, xml/prefixes.ts). Before, one such name sent every member of the listing the
 * general way, three times slower. Anything else (a member a lock covers, quota, checksums, an
 * allprop include, propname) goes the general way.
 *
 * Usage:
 *   const plain = plainListingRenderer(request, nowMs);   // null: not a plain request
 *   // plain.needsLocks: look up the locks covering the members (LockManager.coveringEach)
 *   const text = plain && locks.length === 0 ? plain.render(member, dead) : null;   // null: render it generally
 */
import type { Resource } from './resource';
import type { PropfindRequest } from '../../xml/requests';
import type { OutNode } from '../../xml/build';
import type { PropertyContext } from '../../props/liveProperties';
import type { DeadProperty } from '../../props/deadPropertyStore';
import { ALL_LIVE_PROPERTIES, liveProperty, type LiveProperty } from '../../props/liveProperties';
import { DAV_NS } from '../../xml/tree';
import { escapeText } from '../../xml/chars';
import { PrefixTable, qualify } from '../../xml/prefixes';

/**
 * DAV: properties whose value is computed from the stat, the path and the ETag alone; supportedlock,
 * the same on every resource; and lockdiscovery, empty on a member no lock covers (a member with
 * one goes the general way).
 */
const PLAIN = new Set(['getcontentlength', 'getetag', 'getlastmodified', 'resourcetype', 'displayname', 'getcontenttype', 'creationdate', 'lockdiscovery', 'supportedlock']);
/** Plain properties whose value is the same on every member: rendered once per listing. */
const CONSTANT = new Set(['supportedlock']);

const NO_LOCKS: PropertyContext['locks'] = [];
const DAV_ONLY: ReadonlySet<string> = new Set([DAV_NS]);
const NO_LOCK_ROOT = (): null => null;
const NO_CHECKSUMS = (): null => null;

export interface PlainRenderer {
  /**
   * One member's <D:response>, or null when its values need the general path. Only for a member
   * no lock covers; `dead` are its dead properties (written as stored, RFC 4918 §4.3).
   */
  render(member: Resource, dead: readonly DeadProperty[]): string | null;
  /** The request names lockdiscovery: the caller must know which members locks cover (they go the general way). */
  needsLocks: boolean;
}

/** A property the renderer writes: its name, its live definition (null: none), its tag, its text when constant. */
interface PlainProperty {
  ns: string;
  local: string;
  /** `ns` NUL `local`, as dead properties are looked up by (propertyValues.ts). */
  key: string;
  live: LiveProperty | null;
  tag: string;
  constantText: string | null;
}

const plainProperty = (ns: string, local: string, live: LiveProperty | null, tag: string): PlainProperty => ({ ns, local, key: `${ns}\u0000${local}`, live, tag, constantText: null });

export function plainListingRenderer(request: PropfindRequest, nowMs: number): PlainRenderer | null {
  const properties = plainProperties(request);
  if (properties === null) return null;
  // One context for every member, its resource fields set per member: values are computed at once
  // and never keep it, and a listing of 1,000 no longer allocates 1,000 contexts and 2,000 closures.
  const ctx: PropertyContext = { path: '/', stat: null!, etag: null, locks: NO_LOCKS, lockRootHref: NO_LOCK_ROOT, nowMs, usage: null, checksums: NO_CHECKSUMS };
  for (const property of properties.list) {
    if (property.live !== null && CONSTANT.has(property.live.local)) {
      const value = property.live.value(ctx);
      const inner = value === null ? null : plainText(value);
      if (value === null || inner === null) return null;
      property.constantText = value.length === 0 ? `<${property.tag}/>` : `<${property.tag}>${inner}</${property.tag}>`;
    }
  }
  // allprop (RFC 4918 §9.1) answers only what the member has: nothing goes in a 404 propstat.
  const { list, responseStart, allprop } = properties;
  const render = (member: Resource, dead: readonly DeadProperty[]): string | null => {
    ctx.path = member.path;
    ctx.stat = member.stat!;
    ctx.etag = member.etag;
    // A stored property is what the member has under that name, a live one's name too (propertyValues.ts).
    const deadByKey = dead.length === 0 ? null : new Map(dead.map((p) => [`${p.ns}\u0000${p.local}`, p]));
    let found = '';
    let missing = '';
    /** The names missing, kept for a member with dead properties: one found under a name outside DAV: moves the prefixes. */
    const missingNames: PlainProperty[] | null = deadByKey === null ? null : [];
    let prefixesMoved = false;
    for (const property of list) {
      const stored = deadByKey?.get(property.key);
      if (stored !== undefined) {
        found += stored.xml;
        if (property.ns !== DAV_NS) prefixesMoved = true;
        continue;
      }
      if (property.constantText !== null) {
        found += property.constantText;
        continue;
      }
      const value = property.live === null ? null : property.live.value(ctx);
      if (value === null) {
        if (!allprop) {
          missing += `<${property.tag}/>`;
          missingNames?.push(property);
        }
        continue;
      }
      const inner = plainText(value);
      if (inner === null) return null;
      const { tag } = property;
      found += value.length === 0 ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
    }
    if (allprop && deadByKey !== null) found += deadOutsideAllprop(dead, list);
    let start = responseStart;
    if (prefixesMoved) ({ start, missing } = missingAnew(missingNames!));
    let text = `${start}${escapeText(member.href)}</D:href>`;
    if (found !== '' || missing === '') text += `<D:propstat><D:prop>${found}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
    if (missing !== '') text += `<D:propstat><D:prop>${missing}</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>`;
    return text + '</D:response>';
  };
  return { render, needsLocks: list.some((p) => p.live !== null && p.live.local === 'lockdiscovery' && p.live.ns === DAV_NS) };
}

/**
 * The properties a plain rendering of `request` writes, in the general path's order, and the
 * response's start tag; null when the request needs the general path.
 */
function plainProperties(request: PropfindRequest): { list: PlainProperty[]; responseStart: string; allprop: boolean } | null {
  if (request.kind === 'allprop') {
    // §9.1: the live properties allprop includes (propertyValues.ts); an include goes the general way.
    if (request.include.length !== 0) return null;
    const list: PlainProperty[] = [];
    for (const live of ALL_LIVE_PROPERTIES) {
      if (!live.inAllprop) continue;
      if (live.ns !== DAV_NS || !PLAIN.has(live.local)) return null;
      list.push(plainProperty(live.ns, live.local, live, `D:${live.local}`));
    }
    return { list, responseStart: '<D:response><D:href>', allprop: true };
  }
  if (request.kind !== 'prop') return null;
  const list: PlainProperty[] = [];
  // Prefixes as the general path assigns them in a response: D first, then the other namespaces in
  // the order their names first appear (every such name is in the 404 propstat, after all found ones).
  const prefixes = new PrefixTable();
  prefixes.prefixFor(DAV_NS);
  for (const name of request.names) {
    const live = liveProperty(name.ns, name.local) ?? null;
    if (live !== null && !(name.ns === DAV_NS && PLAIN.has(name.local))) return null;
    let prefix: string;
    try {
      prefix = prefixes.prefixFor(name.ns);
    } catch {
      return null; // a name no element may have: the general path says so
    }
    list.push(plainProperty(name.ns, name.local, live, qualify(prefix, name.local)));
  }
  return { list, responseStart: `<D:response${prefixes.declarations(DAV_ONLY)}><D:href>`, allprop: false };
}

/**
 * The dead properties allprop adds after the live ones (§9.1), in the order stored, each name once:
 * those whose name is not a live one's (a stored one under a live name took its place already).
 */
function deadOutsideAllprop(dead: readonly DeadProperty[], list: readonly PlainProperty[]): string {
  const seen = new Set(list.map((p) => p.key));
  let out = '';
  for (const p of dead) {
    const key = `${p.ns}\u0000${p.local}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out += p.xml;
  }
  return out;
}

/**
 * The response's start tag and 404 propstat content for `missing` names, their prefixes assigned
 * in order of first use as the general path assigns them: when a dead property was found under a
 * name in another namespace, that name takes no prefix any more, and the numbering moves.
 */
function missingAnew(missing: readonly PlainProperty[]): { start: string; missing: string } {
  const prefixes = new PrefixTable();
  prefixes.prefixFor(DAV_NS);
  let text = '';
  for (const p of missing) text += `<${qualify(prefixes.prefixFor(p.ns), p.local)}/>`;
  return { start: `<D:response${prefixes.declarations(DAV_ONLY)}><D:href>`, missing: text };
}

/** Text children escaped, DAV: elements without attributes as the general path writes them; null for anything else. */
function plainText(nodes: readonly OutNode[]): string | null {
  let out = '';
  for (const node of nodes) {
    if (typeof node === 'string') {
      out += escapeText(node);
      continue;
    }
    if (!('local' in node) || node.ns !== DAV_NS || node.attrs !== undefined) return null;
    if (node.children === undefined || node.children.length === 0) {
      out += `<D:${node.local}/>`;
      continue;
    }
    const inner = plainText(node.children);
    if (inner === null) return null;
    out += `<D:${node.local}>${inner}</D:${node.local}>`;
  }
  return out;
}
