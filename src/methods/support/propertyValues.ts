/**
 * Collects the property values of one resource for PROPFIND (RFC 4918 §9.1): live properties
 * computed from the stat, locks and versions; dead properties as stored. Each value is sorted
 * into the propstat it belongs to (200 found, 404 not defined here).
 */
import type { Services } from '../context';
import type { Resource } from './resource';
import type { PropfindRequest } from '../../xml/requests';
import type { ActiveLock } from '../../locks/activeLock';
import { hrefOf } from '../../paths/davPath';
import { ALL_LIVE_PROPERTIES, OWNCLOUD_NS, liveProperty, type PropertyContext } from '../../props/liveProperties';
import { el, type OutElement, type OutNode } from '../../xml/build';
import { DAV_NS } from '../../xml/tree';
import { formatChecksums } from '../../headers/ocChecksum';
import { deadPropertiesAfterLive, deadPropertiesByName, propertyKey, type DeadProperty } from '../../props/deadPropertyStore';

export interface PropstatGroups {
  found: OutNode[];
  missing: OutElement[];
}

/** The href of a lock root: the resource itself, or one of its ancestors (always a collection); null when configured hidden. */
export function lockRootHrefFor(resource: Resource, hidden: boolean, basePath = ''): (lock: ActiveLock) => string | null {
  if (hidden) return () => null;
  return (lock) => (lock.root === resource.path ? resource.href : hrefOf(lock.root, true, basePath));
}

/** Whether `request` names oc:checksums (the only live property that needs its own look-up). */
function asksChecksums(request: PropfindRequest): boolean {
  const names = request.kind === 'prop' ? request.names : request.kind === 'allprop' ? request.include : [];
  return names.some((n) => n.ns === OWNCLOUD_NS && n.local === 'checksums');
}

/** The state a resource's live properties are computed from; lockdiscovery timeouts by the state store's clock. */
export async function propertyContext(services: Services, resource: Resource, usage: PropertyContext['usage'], withChecksums = true): Promise<PropertyContext> {
  const file = resource.stat && !resource.stat.isCollection ? resource.stat : null;
  const digests = withChecksums && file
    ? (resource.digests !== undefined ? resource.digests : await services.versions.digestsOf(resource.path, file))
    : null;
  return {
    path: resource.path,
    stat: resource.stat!,
    etag: resource.etag,
    locks: await services.locks.covering(resource.path),
    lockRootHref: lockRootHrefFor(resource, services.config.hideLockRoot, services.config.basePath),
    nowMs: await services.state.now(),
    usage,
    checksums: () => (digests ? formatChecksums(digests) : null),
  };
}

const NO_DEAD_PROPERTIES: ReadonlyMap<string, DeadProperty> = new Map();

/** The values `request` asks for on `resource`; `dead` are its dead properties (looked up when not given). */
export async function collectProperties(
  services: Services, resource: Resource, request: PropfindRequest, usage: PropertyContext['usage'],
  known?: readonly DeadProperty[],
): Promise<PropstatGroups> {
  const dead = known ?? (await services.state.properties.list(resource.path));
  const ctx = await propertyContext(services, resource, usage, asksChecksums(request));
  const found: OutNode[] = [];
  const missing: OutElement[] = [];

  if (request.kind === 'propname') {
    for (const live of ALL_LIVE_PROPERTIES) if (live.inAllprop && live.value(ctx) !== null) found.push(el(live.ns, live.local));
    for (const p of dead) if (!liveProperty(p.ns, p.local)) found.push(el(p.ns, p.local));
    return { found, missing };
  }

  const deadByName = dead.length === 0 ? NO_DEAD_PROPERTIES : deadPropertiesByName(dead);
  const valueOf = (ns: string, local: string): OutNode | null => {
    const stored = deadByName.get(propertyKey(ns, local));
    if (stored) return { raw: stored.xml };
    const live = liveProperty(ns, local);
    const children = live?.value(ctx);
    return children ? el(ns, local, ...children) : null;
  };

  if (request.kind === 'prop') {
    for (const name of request.names) {
      const value = valueOf(name.ns, name.local);
      if (value) found.push(value);
      else missing.push(el(name.ns, name.local));
    }
    return { found, missing };
  }

  // allprop (§9.1): every dead property and the live ones RFC 4918 defines, plus <include>d ones.
  const seen = new Set<string>();
  for (const live of ALL_LIVE_PROPERTIES) {
    if (!live.inAllprop) continue;
    const value = valueOf(live.ns, live.local);
    seen.add(propertyKey(live.ns, live.local));
    if (value) found.push(value);
  }
  for (const p of deadPropertiesAfterLive(dead, seen)) {
    seen.add(propertyKey(p.ns, p.local)); // an <include> of a name written already adds nothing
    found.push({ raw: p.xml });
  }
  for (const name of request.include) {
    const key = propertyKey(name.ns, name.local);
    if (seen.has(key)) continue;
    const value = valueOf(name.ns, name.local);
    if (value) found.push(value);
    else missing.push(el(name.ns, name.local));
  }
  return { found, missing };
}

/** One DAV:response with its propstats (RFC 4918 §14.24). */
export function propResponse(href: string, groups: PropstatGroups): OutElement {
  const propstats: OutElement[] = [];
  if (groups.found.length > 0 || groups.missing.length === 0) propstats.push(propstat(groups.found, 200));
  if (groups.missing.length > 0) propstats.push(propstat(groups.missing, 404));
  return el(DAV_NS, 'response', el(DAV_NS, 'href', href), ...propstats);
}

export function propstat(props: OutNode[], status: number): OutElement {
  return el(DAV_NS, 'propstat', el(DAV_NS, 'prop', ...props), el(DAV_NS, 'status', statusLine(status)));
}

const REASONS: Record<number, string> = { 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 424: 'Failed Dependency', 423: 'Locked', 500: 'Internal Server Error' };

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ''}`.trimEnd();
}

