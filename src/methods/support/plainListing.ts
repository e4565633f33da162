/**
 * The common PROPFIND written without the general machinery: a `prop` request naming only DAV:
 * live properties whose values are text or empty DAV: elements (getcontentlength, getetag,
 * getlastmodified, resourcetype, displayname, getcontenttype, creationdate), for a member with no
 * dead property. Each such member is one string built straight from its stat, where the general
 * path (propertyValues.ts + xml/build.ts) builds a tree of objects and a prefix table per member:
 * a listing of 1,000 files spent most of its time allocating and collecting them. The values come
 * from the same live property table, and the text is what the general path writes for the same
 * member (RFC 4918 §9.1, §14.16, §14.22, §14.24): `D` for DAV:, the 200 propstat first, then a 404
 * one with the properties the member does not have.
 *
 * A request may also name properties keepdav defines no live property for, in any namespace, as
 * the clients that mount a share do (davfs2 asks for `apache:executable`, Finder for
 * `A:appledoubleheader`): on a member with no dead property they are always in the 404 propstat,
 * their namespaces declared on the response as the general path declares them (`ns1`, `ns2`... in
 * order of first use, xml/prefixes.ts). Before, one such name sent every member of the listing the
 * general way, three times slower. Anything else (dead properties, lockdiscovery, supportedlock,
 * quota, checksums, allprop, propname) goes the general way.
 *
 * Usage:
 *   const plain = plainListingRenderer(request, nowMs);   // null: not a plain request
 *   const text = plain && dead.length === 0 ? plain(member) : null;   // null: render it generally
 */
import type { Resource } from './resource';
import type { PropfindRequest } from '../../xml/requests';
import type { OutNode } from '../../xml/build';
import type { PropertyContext } from '../../props/liveProperties';
import { liveProperty, type LiveProperty } from '../../props/liveProperties';
import { DAV_NS } from '../../xml/tree';
import { escapeText } from '../../xml/chars';
import { PrefixTable, qualify } from '../../xml/prefixes';

/** DAV: properties whose value is computed from the stat, the path and the ETag alone. */
const PLAIN = new Set(['getcontentlength', 'getetag', 'getlastmodified', 'resourcetype', 'displayname', 'getcontenttype', 'creationdate']);

const NO_LOCKS: PropertyContext['locks'] = [];
const DAV_ONLY: ReadonlySet<string> = new Set([DAV_NS]);
const NO_LOCK_ROOT = (): null => null;
const NO_CHECKSUMS = (): null => null;

/** One member's <D:response>, or null when its values need the general path. */
export type PlainRenderer = (member: Resource) => string | null;

export function plainListingRenderer(request: PropfindRequest, nowMs: number): PlainRenderer | null {
  if (request.kind !== 'prop') return null;
  // A null `live`: a name with no live property, always missing on a member without dead properties.
  const properties: Array<{ live: LiveProperty | null; tag: string }> = [];
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
    properties.push({ live, tag: qualify(prefix, name.local) });
  }
  const responseStart = `<D:response${prefixes.declarations(DAV_ONLY)}><D:href>`;
  // One context for every member, its resource fields set per member: values are computed at once
  // and never keep it, and a listing of 1,000 no longer allocates 1,000 contexts and 2,000 closures.
  const ctx: PropertyContext = { path: '/', stat: null!, etag: null, locks: NO_LOCKS, lockRootHref: NO_LOCK_ROOT, nowMs, usage: null, checksums: NO_CHECKSUMS };
  return (member) => {
    ctx.path = member.path;
    ctx.stat = member.stat!;
    ctx.etag = member.etag;
    let found = '';
    let missing = '';
    for (const { live, tag } of properties) {
      const value = live === null ? null : live.value(ctx);
      if (value === null) {
        missing += `<${tag}/>`;
        continue;
      }
      const inner = plainText(value);
      if (inner === null) return null;
      found += inner === '' ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
    }
    let text = `${responseStart}${escapeText(member.href)}</D:href>`;
    if (found !== '' || missing === '') text += `<D:propstat><D:prop>${found}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`;
    if (missing !== '') text += `<D:propstat><D:prop>${missing}</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>`;
    return text + '</D:response>';
  };
}

/** Text children escaped, empty DAV: elements as `<D:x/>`; null for anything else. */
function plainText(nodes: readonly OutNode[]): string | null {
  let out = '';
  for (const node of nodes) {
    if (typeof node === 'string') out += escapeText(node);
    else if ('local' in node && node.ns === DAV_NS && node.attrs === undefined && (node.children === undefined || node.children.length === 0)) out += `<D:${node.local}/>`;
    else return null;
  }
  return out;
}
