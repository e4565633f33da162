/**
 * Retained versions over HTTP (semantics.md, "Nothing is lost"), for a remote user:
 *   GET  /path?versions       the retained versions of /path, newest first (JSON)
 *   GET  /path?version=ID     the bytes of one retained version
 *   POST /path?restore=ID     bring that version back (a new version; what it replaces is retained)
 *   POST /path?restore=ID with `Destination: /other` (or `&to=/other`): bring it back at /other,
 *        honouring `Overwrite` as COPY does (RFC 4918 §10.6: absent means T; F onto an existing
 *        resource is 412 destination-exists).
 * A restore is a write: it is serialized with other writes and needs the lock token when the
 * restored path is locked (423); a missing parent is 409 parent-missing.
 */
import type { DavRequest, DavResponse, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, requireParentCollection, versionHeaders } from './support/resource';
import { refuseDuplicateName, creationClaims, resolveEquivalentPath } from './support/equivalentNames';
import { BadGatewayError, BadRequestError, DestinationExistsError, MethodNotAllowedError, NotFoundError } from '../conditions/davErrors';
import { restoreVersion, MissingVersionContentError, UnknownVersionError } from '../versions/restoreVersion';
import { contentTypeOf } from '../props/contentType';
import { formatHttpDate } from '../headers/httpDate';
import { parseDestination } from '../headers/destination';
import { parseOverwrite } from '../headers/overwrite';
import { ROOT, type DavPath } from '../paths/davPath';
import { ALLOWED_METHODS } from './allowedMethods';
import { assertNotCrossSite, storedContentHeaders } from '../web/pageSecurity';

export function isVersionRequest(req: DavRequest): boolean {
  return req.query.has('versions') || req.query.has('version');
}

/** GET ?versions or ?version=ID. */
export async function versionAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  const id = req.query.get('version');
  // A name equivalent to a member's (another Unicode normalization; case with --case-insensitive) is that member's history.
  const path = await resolveEquivalentPath(req, services, req.path);
  if (id === null) {
    const versions = (await services.retention.list(path)).map((v) => ({
      id: v.id,
      retained: new Date(v.retainedAtMs).toISOString(),
      reason: v.reason,
      size: v.size,
      etag: v.etag,
      lastModified: formatHttpDate(v.mtimeMs),
    }));
    return { status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ href: req.hrefOf(path, false), versions }, null, 1) };
  }
  const version = await services.retention.get(id);
  if (!version || version.path !== path) throw new NotFoundError(`${req.hrefOf(req.path, false)}?version=${id}`);
  const bytes = await services.retention.open(id);
  // Listed, but its bytes are gone from the state directory (damaged state): a clear 410, never a crash.
  if (!bytes) throw new MissingVersionContentError(path, id);
  const headers = { ...storedContentHeaders(contentTypeOf(path)), 'Content-Type': contentTypeOf(path), 'Content-Length': version.size, 'Last-Modified': formatHttpDate(version.mtimeMs), ETag: version.etag };
  if (req.method === 'HEAD') bytes.destroy();
  return { status: 200, headers, body: req.method === 'HEAD' ? undefined : bytes };
}

/** POST ?restore=ID (the only POST keepdav answers), to the version's own path or to another. */
export const post: MethodHandler = async (req, services) => {
  assertNotCrossSite(req);
  const id = req.query.get('restore');
  if (id === null) throw new MethodNotAllowedError('method-not-allowed', 'POST is only used for ?restore=VERSION', ALLOWED_METHODS);
  if (id === '') throw new BadRequestError('?restore needs a version id');
  // Names equivalent to a member's address that member, as for PUT (README, duplicate-name).
  const own = await resolveEquivalentPath(req, services, req.path);
  const to = await resolveEquivalentPath(req, services, restoreTarget(req, own));
  // Restoring elsewhere writes there: the edge checked write on the version's own path, this is the other one.
  if (to !== own) services.access.require(req.user, to, 'write', req.hrefOf(to, false));
  const overwrite = parseOverwrite(req.header('overwrite'));
  return services.state.claims.run(creationClaims(services, to, false), async () => {
    const target = await loadResource(req, services, to);
    if (target.stat?.isCollection) throw new MethodNotAllowedError('is-a-collection', `${target.href} is a collection`, ALLOWED_METHODS);
    await requireParentCollection(req, services, to);
    if (!target.stat) await refuseDuplicateName(req, services, to);
    await checkPreconditions(req, services, target, {
      writes: [{ path: to, depth: '0' }],
      membershipChanges: target.stat ? [] : [to],
    });
    // RFC 4918 §10.6 as for COPY: Overwrite: F onto an existing resource is 412, also at the version's own path.
    if (target.stat && !overwrite) throw new DestinationExistsError(target.href);
    try {
      const restored = await restoreVersion(services, own, id, to);
      const stat = await services.store.stat(to);
      const headers: Record<string, string> = stat ? versionHeaders(restored.etag, stat) : {};
      if (to !== own) headers.Location = req.hrefOf(to, false);
      return { status: restored.created ? 201 : 204, headers };
    } catch (err) {
      if (err instanceof UnknownVersionError) throw new NotFoundError(`${req.hrefOf(req.path, false)}?version=${id}`);
      throw err;
    }
  });
};

/** Where a restore writes: the Destination header or `?to=` (either an absolute path or a URL of this server), else the version's own path. */
function restoreTarget(req: DavRequest, own: DavPath): DavPath {
  const header = req.header('destination');
  const query = req.query.get('to');
  if (header !== undefined && query !== null) throw new BadRequestError('a restore takes Destination or ?to=, not both');
  const value = header ?? query;
  if (value === null || value === undefined) return own;
  const { urlPath, sameHost } = parseDestination(value, req.header('host'));
  if (!sameHost) throw new BadGatewayError(value);
  const to = req.pathOfUri(urlPath);
  if (to === null) throw new BadRequestError('the restore target names no resource on this server');
  if (to === ROOT) throw new MethodNotAllowedError('is-a-collection', 'the root is a collection', ALLOWED_METHODS);
  return to;
}
