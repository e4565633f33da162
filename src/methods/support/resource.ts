/**
 * The request target as every handler needs it: its stat, its ETag, its href and the facts a
 * conflict answer carries; plus the shared steps "parent must be a collection" and
 * "evaluate the preconditions".
 */
import type { DavRequest, Services } from '../context';
import type { ResourceStat } from '../../storage/resourceStore';
import type { ResourceFacts } from '../../conditions/davError';
import type { ContentDigests } from '../../storage/atomicWrite';
import { ParentMissingError, ConflictError } from '../../conditions/davErrors';
import { evaluatePreconditions, type PreconditionOutcome, type ProtectedWrite } from '../../conditions/preconditions';
import { parentOf, type DavPath } from '../../paths/davPath';
import { formatHttpDate } from '../../headers/httpDate';
import { parseLockTokenHeader } from '../../headers/lockToken';
import { parseIfHeader } from '../../headers/ifHeader';
import { resolveEquivalentPath } from './equivalentNames';
import { CurrentVersionCache, type CurrentVersion } from '../../versions/currentVersionCache';
import { derivedTag } from '../../storage/resourceStat';
import { OperationInProgressError } from '../../concurrency/pathMutex';

/**
 * Word 2016 names its lock in a Lock-Token header when it saves; counted only when configured
 * (`--lock-token-header`), and only on the methods the README names. RFC 4918 §10.5 gives the
 * header no meaning on them, so one that does not parse is no token, not a 400.
 */
const LOCK_TOKEN_HEADER_METHODS: ReadonlySet<string> = new Set(['PUT', 'DELETE', 'PROPPATCH']);

function lockTokenHeaderTokens(req: DavRequest, services: Services): string[] {
  const value = req.header('lock-token');
  if (!services.config.lockTokenHeaderSubmits || value === undefined || !LOCK_TOKEN_HEADER_METHODS.has(req.method)) return [];
  try {
    return [parseLockTokenHeader(value)];
  } catch {
    return [];
  }
}

export interface Resource {
  path: DavPath;
  stat: ResourceStat | null;
  /** Strong quoted ETag for files; null for collections and missing resources. */
  etag: string | null;
  href: string;
  /** SHA-1 and MD5 of a file's current content when recorded (null: unknown); absent when not looked up. */
  digests?: ContentDigests | null;
}

/**
 * How long after a file's last change (its ctime) a read that finds no record for it waits for a
 * write of it that may be under way (loadSettledResource).
 */
const RECORDING_WINDOW_MS = 5000;
/**
 * How long such a read waits at most: a recording takes milliseconds, but the claim may be a long
 * upload's over a file changed just before by other means.
 */
const RECORDING_WAIT_MS = 2000;
/** How often it looks again while a MOVE runs there. */
const RECORDING_POLL_MS = 5;

/**
 * For reads outside any write claim (GET, HEAD, PROPFIND's target): the resource as loadResource
 * finds it, except when a file's ETag comes out derived (no version record matches it) within
 * RECORDING_WINDOW_MS of its last change. A write through keepdav puts the file in place first
 * (the rename, then the directory's fsync) and records its version after, holding its claim on
 * the path throughout (PUT, restore, a PROPPATCH of the mtime, MOVE); a read in between would
 * answer a derived ETag for bytes that a moment later carry the recorded one, one version under
 * two ETags (and a later If-Match with the first would fail). So such a read waits for the path's claim (on every
 * instance sharing the state) and looks again; where a MOVE runs (its claim refuses others at
 * once), it looks again every few milliseconds. After RECORDING_WAIT_MS it answers what it found.
 */
export async function loadSettledResource(req: DavRequest, services: Services, path: DavPath): Promise<Resource> {
  let resource = await loadResource(req, services, path);
  const deadline = Date.now() + RECORDING_WAIT_MS;
  while (mayBeRecording(resource) && Date.now() < deadline) {
    const settled = services.state.claims.run([{ path, tree: false }], () => loadResource(req, services, path));
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<null>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), null);
    });
    try {
      return (await Promise.race([settled, gaveUp])) ?? resource;
    } catch (err) {
      if (!(err instanceof OperationInProgressError)) throw err;
      // A COPY's copies have no record (their ETags are derived for good), a DELETE's go: only a MOVE's records follow.
      if (err.operation.method !== 'MOVE') return resource;
    } finally {
      clearTimeout(timer);
      // Taken after the wait gave up, the claim is released at once; its look-up is not needed then.
      settled.catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, RECORDING_POLL_MS));
    resource = await loadResource(req, services, path);
  }
  return resource;
}

/** A file whose ETag came out derived, changed within RECORDING_WINDOW_MS: its version may be being recorded. */
function mayBeRecording(resource: Resource): boolean {
  const stat = resource.stat;
  return stat !== null && !stat.isCollection && Date.now() - stat.ctimeMs <= RECORDING_WINDOW_MS && resource.etag === derivedTag(stat);
}

/** Per server: what each file's version was while it stays unchanged on disk (no state look-up for a GET). */
const versionCaches = new WeakMap<Services, CurrentVersionCache>();

export async function loadResource(req: DavRequest, services: Services, path: DavPath): Promise<Resource> {
  const stat = await services.store.stat(path);
  const current = stat && !stat.isCollection ? await currentVersionOf(services, stat) : null;
  return { path, stat, etag: current?.etag ?? null, digests: current?.digests ?? null, href: req.hrefOf(path, stat?.isCollection ?? false) };
}

async function currentVersionOf(services: Services, stat: ResourceStat): Promise<CurrentVersion> {
  let cache = versionCaches.get(services);
  if (cache === undefined) versionCaches.set(services, (cache = new CurrentVersionCache()));
  const cached = cache.get(stat.path, stat);
  if (cached) return cached;
  const found = await services.versions.currentOf(stat.path, stat);
  if (found.etag !== derivedTag(stat)) {
    cache.set(stat.path, stat, found, Date.now());
    return found;
  }
  // No record matches. A MOVE renames first and moves the records after (treeOperations.ts), and
  // the rename leaves its members' ctimes as they were: a derived ETag read in between must not be
  // kept, or this file would go on answering it beside its recorded one. So it is kept only when
  // no operation covers the path now and a second look, after that check, still finds no record.
  if (await services.state.claims.operationOver(stat.path)) return found;
  const again = await services.versions.currentOf(stat.path, stat);
  cache.set(stat.path, stat, again, Date.now());
  return again;
}

/** What a conflict answer says about the current resource. */
export function factsOf(resource: Resource): ResourceFacts {
  if (!resource.stat) return { href: resource.href };
  return { href: resource.href, etag: resource.etag, lastModifiedMs: resource.stat.mtimeMs };
}

/** ETag and Last-Modified headers for a file (RFC 9110 §8.8). */
export function versionHeaders(etag: string | null, stat: ResourceStat): Record<string, string> {
  const headers: Record<string, string> = { 'Last-Modified': formatHttpDate(stat.mtimeMs) };
  if (etag) headers.ETag = etag;
  return headers;
}

/**
 * Throws 409 parent-missing naming the nearest missing ancestor when `path`'s parent is not an
 * existing collection (RFC 4918 §9.3.1, 9.7.1, 9.8.5, 9.9.4).
 */
export async function requireParentCollection(req: DavRequest, services: Services, path: DavPath): Promise<void> {
  const parent = parentOf(path);
  if (parent === null) return;
  const stat = await services.store.stat(parent);
  if (stat?.isCollection) return;
  if (stat) throw new ConflictError('parent-not-a-collection', `${req.hrefOf(parent, false)} is not a collection`);
  let missing = parent;
  for (let up = parentOf(parent); up !== null; up = parentOf(up)) {
    if (await services.store.stat(up)) break;
    missing = up;
  }
  throw new ParentMissingError(req.hrefOf(missing, true));
}

export interface WriteScope {
  writes?: readonly ProtectedWrite[];
  membershipChanges?: readonly DavPath[];
}

/**
 * The resources the If header's tagged lists name, each found as a request by that URL would find
 * it: in an equivalent spelling too (an NFD name, another case), so a client that tags with the URL
 * it locked or requests by (neon does) names the member it means (RFC 4918 §10.4.2). The request's
 * own URL names `target`. A header that does not parse is left to the evaluation to refuse.
 */
async function taggedResources(req: DavRequest, services: Services, target: Resource): Promise<Map<string, DavPath>> {
  const found = new Map<string, DavPath>();
  let header;
  try {
    header = parseIfHeader(req.header('if'));
  } catch {
    return found;
  }
  for (const list of header?.lists ?? []) {
    if (list.resourceTag === null || found.has(list.resourceTag)) continue;
    const path = req.pathOfUri(list.resourceTag);
    if (path === null) continue;
    found.set(list.resourceTag, path === req.path ? target.path : await resolveEquivalentPath(req, services, path).catch(() => path));
  }
  return found;
}

const NO_TAGS: ReadonlyMap<string, DavPath> = new Map();

/** Runs the ordered precondition evaluation (src/conditions/preconditions.ts) for `target`. */
export async function checkPreconditions(req: DavRequest, services: Services, target: Resource, scope: WriteScope = {}): Promise<PreconditionOutcome> {
  const tagged = req.header('if') === undefined ? NO_TAGS : await taggedResources(req, services, target);
  return evaluatePreconditions({
    method: req.method,
    header: (name) => req.header(name),
    target: {
      path: target.path,
      exists: target.stat !== null,
      etag: target.etag,
      lastModifiedMs: target.stat?.mtimeMs ?? null,
      facts: factsOf(target),
    },
    locks: services.locks,
    writes: scope.writes ?? [],
    membershipChanges: scope.membershipChanges ?? [],
    // A tag naming the request's own URI names the resource it addresses, also when that was found
    // by an equivalent spelling (an NFD name, or another case with --case-insensitive; neon-based
    // clients tag their lists with the URL they request). RFC 4918 §10.4.2.
    resolveTag: (tag) => tagged.get(tag) ?? req.pathOfUri(tag),
    alsoSubmitted: lockTokenHeaderTokens(req, services),
    mayUseToken: async (token) => {
      const lock = await services.locks.byToken(token);
      return lock === undefined || services.access.mayUseLock(req.user, lock);
    },
    etagOf: async (path) => {
      const other = await loadResource(req, services, path);
      return { exists: other.stat !== null, etag: other.etag };
    },
    lockRootHref: async (path) => (await loadResource(req, services, path)).href,
  });
}
