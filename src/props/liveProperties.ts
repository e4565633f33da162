/**
 * The live properties keepdav computes (RFC 4918 §15, RFC 4331 quota). Each entry says whether it
 * is protected (PROPPATCH answers 403 cannot-modify-protected-property), whether allprop
 * includes it, and how its value is computed for a resource.
 */
import type { ActiveLock } from '../locks/activeLock';
import type { ResourceStat } from '../storage/resourceStore';
import { baseName, type DavPath } from '../paths/davPath';
import { formatHttpDate } from '../headers/httpDate';
import { DayTexts, clockOf } from '../headers/utcClock';
import { el, type OutNode } from '../xml/build';
import { DAV_NS } from '../xml/tree';
import { lockDiscoveryElement, supportedLockElement } from './lockDiscovery';
import { contentTypeOf } from './contentType';
import { propertyKey } from './deadPropertyStore';

export interface PropertyContext {
  path: DavPath;
  stat: ResourceStat;
  etag: string | null;
  locks: readonly ActiveLock[];
  lockRootHref(lock: ActiveLock): string | null;
  nowMs: number;
  /** Present when the request asked for quota properties. */
  usage: { availableBytes: number; usedBytes: number } | null;
  /** The recorded checksums of a file's current content (`SHA1:… MD5:…`), or null; looked up only when asked. */
  checksums(): string | null;
}

export interface LiveProperty {
  ns: string;
  local: string;
  protected: boolean;
  /** allprop returns it (RFC 4918 §9.1; RFC 4331 §3 keeps quota out). */
  inAllprop: boolean;
  /** The property element's children; null when the property is not defined on this resource. */
  value(ctx: PropertyContext): OutNode[] | null;
}

/** The latest (and, negated, the earliest) time a Date can hold (ECMAScript's time values). */
const MAX_DATE_MS = 8.64e15;

/** "2023-11-14T" for the day starting at `dayStartMs` (a RangeError where Date has no such day). */
const rfc3339Days = new DayTexts((dayStartMs) => new Date(dayStartMs).toISOString().slice(0, -13));

/** RFC 3339 date-time for DAV:creationdate (RFC 4918 §15.1), to the second: "2023-11-14T22:13:20Z". */
export function rfc3339(ms: number): string {
  const time = Math.trunc(ms); // as a Date takes it: the fraction of a millisecond cut toward zero
  if (!(Math.abs(time) <= MAX_DATE_MS)) throw new RangeError(`not a time a Date can hold: ${ms}`);
  const second = Math.floor(time / 1000);
  return `${rfc3339Days.of(second)}${clockOf(second)}Z`;
}

/** macOS Finder asks these older quota properties besides RFC 4331's (values in 512-byte blocks, as Apple's servers sent them). */
export const APPLE_WEBDAV_NS = 'http://www.apple.com/webdav_fs/props/';
const blocks = (bytes: number) => String(Math.floor(bytes / 512));

/** ownCloud's namespace: `oc:checksums` is how ownCloud/Nextcloud clients and rclone read a file's checksums. */
export const OWNCLOUD_NS = 'http://owncloud.org/ns';

const fileOnly = (ctx: PropertyContext, value: () => OutNode[]): OutNode[] | null => (ctx.stat.isCollection ? null : value());

const LIVE: LiveProperty[] = [
  {
    ns: DAV_NS, local: 'creationdate', protected: true, inAllprop: true,
    value: (ctx) => [rfc3339(ctx.stat.birthtimeMs > 0 ? ctx.stat.birthtimeMs : ctx.stat.ctimeMs)],
  },
  { ns: DAV_NS, local: 'displayname', protected: false, inAllprop: true, value: (ctx) => [baseName(ctx.path)] },
  { ns: DAV_NS, local: 'getcontentlength', protected: true, inAllprop: true, value: (ctx) => fileOnly(ctx, () => [String(ctx.stat.size)]) },
  { ns: DAV_NS, local: 'getcontenttype', protected: true, inAllprop: true, value: (ctx) => fileOnly(ctx, () => [contentTypeOf(ctx.path)]) },
  { ns: DAV_NS, local: 'getetag', protected: true, inAllprop: true, value: (ctx) => (ctx.etag ? [ctx.etag] : null) },
  { ns: DAV_NS, local: 'getlastmodified', protected: false, inAllprop: true, value: (ctx) => [formatHttpDate(ctx.stat.mtimeMs)] },
  {
    ns: DAV_NS, local: 'resourcetype', protected: true, inAllprop: true,
    value: (ctx) => (ctx.stat.isCollection ? [el(DAV_NS, 'collection')] : []),
  },
  {
    ns: DAV_NS, local: 'lockdiscovery', protected: true, inAllprop: true,
    value: (ctx) => lockDiscoveryElement(ctx.locks, ctx.lockRootHref, ctx.nowMs).children ?? [],
  },
  { ns: DAV_NS, local: 'supportedlock', protected: true, inAllprop: true, value: () => supportedLockElement().children ?? [] },
  {
    ns: DAV_NS, local: 'quota-available-bytes', protected: true, inAllprop: false,
    value: (ctx) => (ctx.usage ? [String(ctx.usage.availableBytes)] : null),
  },
  {
    ns: DAV_NS, local: 'quota-used-bytes', protected: true, inAllprop: false,
    value: (ctx) => (ctx.usage ? [String(ctx.usage.usedBytes)] : null),
  },
  {
    // <oc:checksums><oc:checksum>SHA1:… MD5:…</oc:checksum></oc:checksums>, as ownCloud answers it.
    ns: OWNCLOUD_NS, local: 'checksums', protected: true, inAllprop: false,
    value: (ctx) => {
      const value = ctx.stat.isCollection ? null : ctx.checksums();
      return value === null ? null : [el(OWNCLOUD_NS, 'checksum', value)];
    },
  },
  {
    ns: APPLE_WEBDAV_NS, local: 'quota', protected: true, inAllprop: false,
    value: (ctx) => (ctx.usage ? [blocks(ctx.usage.availableBytes + ctx.usage.usedBytes)] : null),
  },
  {
    ns: APPLE_WEBDAV_NS, local: 'quotaused', protected: true, inAllprop: false,
    value: (ctx) => (ctx.usage ? [blocks(ctx.usage.usedBytes)] : null),
  },
];

const BY_NAME = new Map(LIVE.map((p) => [propertyKey(p.ns, p.local), p]));

export function liveProperty(ns: string, local: string): LiveProperty | undefined {
  return BY_NAME.get(propertyKey(ns, local));
}

export const ALL_LIVE_PROPERTIES: readonly LiveProperty[] = LIVE;

export function isQuotaProperty(ns: string, local: string): boolean {
  if (ns === APPLE_WEBDAV_NS) return local === 'quota' || local === 'quotaused';
  return ns === DAV_NS && (local === 'quota-available-bytes' || local === 'quota-used-bytes');
}
