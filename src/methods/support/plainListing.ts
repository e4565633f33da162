/**
 * The common PROPFIND written without the general machinery, for a member no lock covers: a
 * `prop` request naming live properties whose values come from the member's stat, path, records
 * and locks (getcontentlength, getetag, getlastmodified, resourcetype, displayname,
 * getcontenttype, creationdate, lockdiscovery, supportedlock, oc:checksums), and `allprop`
 * without an include (Windows Explorer's listing, Cyberduck's). Each such member is one string
 * built straight from its stat, where the general path (propertyValues.ts + xml/build.ts) builds a
 * tree of objects and a prefix table per member, and looks up its locks and digests one by one: a
 * listing of 1,000 files spent most of its time allocating and collecting them. The values come
 * from the same live property table, and the text is what the general path writes for the same
 * member (RFC 4918 §9.1, §14.16, §14.22, §14.24): `D` for DAV:, the 200 propstat first, then a
 * 404 one with the properties the member does not have (none for allprop, which names only what
 * is there). A member's dead properties (Windows Explorer stores four Win32 ones on every file it
 * writes) are written as stored: under a name asked for, in place of a live one of that name, and
 * for allprop after the live ones.
 *
 * A request may also name properties keepdav defines no live property for, in any namespace, as
 * the clients that mount a share do (davfs2 asks for `apache:executable`, Finder for
 * `A:appledoubleheader`): they are in the 404 propstat unless stored. Namespaces other than DAV:
 * are declared on the response as the general writer declares them (`ns1`, `ns2`... in order of
 * first use, xml/prefixes.ts: names found with a live value first, then the missing ones), so the
 * prefixes follow which names a member has (Layout). Before, one such name sent every member of
 * the listing the general way, three times slower. Anything else (a member a lock covers, quota,
 * an allprop include, propname) goes the general way.
 *
 * Usage:
 *   const plain = plainListingRenderer(request, nowMs);   // null: not a plain request
 *   // plain.needsLocks: look up the locks covering the members (LockManager.coveringEach);
 *   // plain.needsChecksums: pass each file's oc:checksums text (VersionStore.digestsIn)
 *   const text = plain && locks.length === 0 ? plain.render(member, dead, checksums) : null;   // null: render it generally
 */
import type { Resource } from './resource';
import type { PropfindRequest } from '../../xml/requests';
import type { OutNode } from '../../xml/build';
import type { PropertyContext } from '../../props/liveProperties';
import { deadPropertiesAfterLive, deadPropertiesByName, propertyKey, type DeadProperty } from '../../props/deadPropertyStore';
import { ALL_LIVE_PROPERTIES, OWNCLOUD_NS, liveProperty, type LiveProperty } from '../../props/liveProperties';
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

/** Whether the plain renderer computes `live`: the PLAIN ones, and oc:checksums from the batch's version records. */
function isPlain(live: LiveProperty): boolean {
  return live.ns === DAV_NS ? PLAIN.has(live.local) : live.ns === OWNCLOUD_NS && live.local === 'checksums';
}

const NO_LOCKS: PropertyContext['locks'] = [];
const DAV_ONLY: ReadonlySet<string> = new Set([DAV_NS]);
const NO_LOCK_ROOT = (): null => null;

export interface PlainRenderer {
  /**
   * One member's <D:response>, or null when its values need the general path. Only for a member
   * no lock covers; `dead` are its dead properties (written as stored, RFC 4918 §4.3);
   * `checksums` its oc:checksums text (formatChecksums), when `needsChecksums`.
   */
  render(member: Resource, dead: readonly DeadProperty[], checksums: string | null): string | null;
  /** The request names lockdiscovery: the caller must know which members locks cover (they go the general way). */
  needsLocks: boolean;
  /** The request names oc:checksums: the caller passes each file's. */
  needsChecksums: boolean;
}

/** A property the renderer writes: its name, its live definition (null: none), its text when constant. */
interface PlainProperty {
  ns: string;
  local: string;
  /** Its propertyKey, as dead properties are looked up by. */
  key: string;
  live: LiveProperty | null;
  constantText: string | null;
}

const plainProperty = (ns: string, local: string, live: LiveProperty | null): PlainProperty => ({ ns, local, key: propertyKey(ns, local), live, constantText: null });

/** What a member's value of each property turned out to be. */
const FOUND_LIVE = 0;
const FOUND_STORED = 1;
const FOUND_CONSTANT = 2;
const MISSING = 3;

/**
 * The prefixes of one response, which depend on which names outside DAV: were found with a live
 * value (their elements come first, in the 200 propstat) and which are missing (in the 404 one):
 * the general writer assigns `ns1`, `ns2`... in that order of first use (xml/prefixes.ts). A
 * stored property is written as stored and takes no prefix.
 */
interface Layout {
  start: string;
  prefixOf: ReadonlyMap<string, string>;
  /** The qualified name of each property whose namespace has a prefix here ('' for the others). */
  tags: readonly string[];
}

function layoutFor(list: readonly PlainProperty[], states: Uint8Array): Layout {
  const table = new PrefixTable();
  table.prefixFor(DAV_NS);
  for (let i = 0; i < list.length; i++) if (states[i] === FOUND_LIVE) table.prefixFor(list[i].ns);
  for (let i = 0; i < list.length; i++) if (states[i] === MISSING) table.prefixFor(list[i].ns);
  const prefixOf = new Map<string, string>();
  const tags = list.map((p, i) => {
    if (states[i] !== FOUND_LIVE && states[i] !== MISSING && p.ns !== DAV_NS) return '';
    const prefix = table.prefixFor(p.ns);
    prefixOf.set(p.ns, prefix);
    return qualify(prefix, p.local);
  });
  prefixOf.set(DAV_NS, 'D');
  return { start: `<D:response${table.declarations(DAV_ONLY)}><D:href>`, prefixOf, tags };
}

/** At most this many layouts are kept per listing (one per pattern of found and missing names outside DAV:). */
const MAX_LAYOUTS = 64;

export function plainListingRenderer(request: PropfindRequest, nowMs: number): PlainRenderer | null {
  const properties = plainProperties(request);
  if (properties === null) return null;
  // allprop (RFC 4918 §9.1) answers only what the member has: nothing goes in a 404 propstat.
  const { list, allprop } = properties;
  // One context for every member, its resource fields set per member: values are computed at once
  // and never keep it, and a listing of 1,000 no longer allocates 1,000 contexts and 2,000 closures.
  let memberChecksums: string | null = null;
  const ctx: PropertyContext = { path: '/', stat: null!, etag: null, locks: NO_LOCKS, lockRootHref: NO_LOCK_ROOT, nowMs, usage: null, checksums: () => memberChecksums };
  for (const property of list) {
    if (property.live !== null && property.ns === DAV_NS && CONSTANT.has(property.local)) {
      const value = property.live.value(ctx);
      const inner = value === null ? null : plainText(value, DAV_PREFIX_ONLY);
      if (value === null || inner === null) return null;
      const tag = `D:${property.local}`;
      property.constantText = value.length === 0 ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
    }
  }
  /** The names allprop writes live, which stored properties of the same name replace (§9.1). */
  const liveKeys = new Set(list.map((p) => p.key));
  /** Positions of the names outside DAV: (their states choose the layout). */
  const foreign = list.flatMap((p, i) => (p.ns === DAV_NS ? [] : [i]));
  const states = new Uint8Array(list.length);
  const values: Array<readonly OutNode[] | string | null> = new Array(list.length).fill(null);
  const layouts = new Map<string, Layout>();
  const layoutNow = (): Layout => {
    let key = '';
    for (const i of foreign) key += states[i];
    let layout = layouts.get(key);
    if (layout === undefined) {
      layout = layoutFor(list, states);
      if (layouts.size < MAX_LAYOUTS) layouts.set(key, layout);
    }
    return layout;
  };

  const render = (member: Resource, dead: readonly DeadProperty[], checksums: string | null): string | null => {
    ctx.path = member.path;
    ctx.stat = member.stat!;
    ctx.etag = member.etag;
    memberChecksums = checksums;
    // A stored property is what the member has under that name, a live one's name too (propertyValues.ts).
    const deadByKey = dead.length === 0 ? null : deadPropertiesByName(dead);
    for (let i = 0; i < list.length; i++) {
      const property = list[i];
      const stored = deadByKey?.get(property.key);
      if (stored !== undefined) {
        states[i] = FOUND_STORED;
        values[i] = stored.xml;
      } else if (property.constantText !== null) {
        states[i] = FOUND_CONSTANT;
      } else {
        const value = property.live === null ? null : property.live.value(ctx);
        states[i] = value === null ? MISSING : FOUND_LIVE;
        values[i] = value;
      }
    }
    const layout = layoutNow();
    let found = '';
    let missing = '';
    for (let i = 0; i < list.length; i++) {
      switch (states[i]) {
        case FOUND_STORED:
          found += values[i] as string;
          break;
        case FOUND_CONSTANT:
          found += list[i].constantText!;
          break;
        case MISSING:
          if (!allprop) missing += `<${layout.tags[i]}/>`;
          break;
        default: {
          const value = values[i] as readonly OutNode[];
          const inner = plainText(value, layout.prefixOf);
          if (inner === null) return null;
          const tag = layout.tags[i];
          found += value.length === 0 ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
        }
      }
    }
    if (allprop && deadByKey !== null) for (const p of deadPropertiesAfterLive(dead, liveKeys)) found += p.xml;
    let text = `${layout.start}${escapeText(member.href)}</D:href>`;
    if (found !== '' || missing === '') text += `<D:propstat><D:prop>${found}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
    if (missing !== '') text += `<D:propstat><D:prop>${missing}</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>`;
    return text + '</D:response>';
  };
  const names = (ns: string, local: string) => list.some((p) => p.live !== null && p.ns === ns && p.local === local);
  return { render, needsLocks: names(DAV_NS, 'lockdiscovery'), needsChecksums: names(OWNCLOUD_NS, 'checksums') };
}

const DAV_PREFIX_ONLY: ReadonlyMap<string, string> = new Map([[DAV_NS, 'D']]);

/** The properties a plain rendering of `request` writes, in the general path's order; null when the request needs the general path. */
function plainProperties(request: PropfindRequest): { list: PlainProperty[]; allprop: boolean } | null {
  if (request.kind === 'allprop') {
    // §9.1: the live properties allprop includes (propertyValues.ts); an include goes the general way.
    if (request.include.length !== 0) return null;
    const list: PlainProperty[] = [];
    for (const live of ALL_LIVE_PROPERTIES) {
      if (!live.inAllprop) continue;
      if (live.ns !== DAV_NS || !isPlain(live)) return null;
      list.push(plainProperty(live.ns, live.local, live));
    }
    return { list, allprop: true };
  }
  if (request.kind !== 'prop') return null;
  const list: PlainProperty[] = [];
  const prefixes = new PrefixTable();
  for (const name of request.names) {
    const live = liveProperty(name.ns, name.local) ?? null;
    if (live !== null && !isPlain(live)) return null;
    try {
      prefixes.prefixFor(name.ns);
    } catch {
      return null; // a name no element may have: the general path says so
    }
    list.push(plainProperty(name.ns, name.local, live));
  }
  return { list, allprop: false };
}

/**
 * Text children escaped, elements without attributes as the general writer writes them, with the
 * prefixes of `prefixOf`; null for anything else (an element in a namespace without a prefix there).
 */
function plainText(nodes: readonly OutNode[], prefixOf: ReadonlyMap<string, string>): string | null {
  let out = '';
  for (const node of nodes) {
    if (typeof node === 'string') {
      out += escapeText(node);
      continue;
    }
    if (!('local' in node) || node.attrs !== undefined) return null;
    const prefix = prefixOf.get(node.ns);
    if (prefix === undefined) return null;
    const name = qualify(prefix, node.local);
    if (node.children === undefined || node.children.length === 0) {
      out += `<${name}/>`;
      continue;
    }
    const inner = plainText(node.children, prefixOf);
    if (inner === null) return null;
    out += `<${name}>${inner}</${name}>`;
  }
  return out;
}
