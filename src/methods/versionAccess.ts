/**
 * Retained versions over HTTP (semantics.md, "Nothing is lost"), for a remote user:
 *   GET  /path?versions       the retained versions of /path, newest first (JSON)
 *   GET  /path?version=ID     the bytes of one retained version
 *   POST /path?restore=ID     bring that version back (a new version; what it replaces is retained)
 * A restore is a write: it is serialized with other writes and needs the lock token when /path is locked.
 */
import { createReadStream } from 'node:fs';
import type { DavRequest, DavResponse, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, requireParentCollection, versionHeaders } from './support/resource';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../conditions/davErrors';
import { restoreVersion, UnknownVersionError } from '../versions/restoreVersion';
import { contentTypeOf } from '../props/contentType';
import { formatHttpDate } from '../headers/httpDate';
import { ALLOWED_METHODS } from './allowedMethods';
import { assertNotCrossSite, storedContentHeaders } from '../web/pageSecurity';

export function isVersionRequest(req: DavRequest): boolean {
  return req.query.has('versions') || req.query.has('version');
}

/** GET ?versions or ?version=ID. */
export async function versionAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  const id = req.query.get('version');
  if (id === null) {
    const versions = services.retention.list(req.path).map((v) => ({
      id: v.id,
      retained: new Date(v.retainedAtMs).toISOString(),
      reason: v.reason,
      size: v.size,
      etag: v.etag,
      lastModified: formatHttpDate(v.mtimeMs),
    }));
    return { status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify({ href: req.hrefOf(req.path, false), versions }, null, 1) };
  }
  const version = services.retention.get(id);
  const file = services.retention.contentPath(id);
  if (!version || version.path !== req.path || !file) throw new NotFoundError(`${req.hrefOf(req.path, false)}?version=${id}`);
  const headers = { ...storedContentHeaders(contentTypeOf(req.path)), 'Content-Type': contentTypeOf(req.path), 'Content-Length': version.size, 'Last-Modified': formatHttpDate(version.mtimeMs), ETag: version.etag };
  return { status: 200, headers, body: req.method === 'HEAD' ? undefined : createReadStream(file) };
}

/** POST ?restore=ID (the only POST keepdav answers). */
export const post: MethodHandler = async (req, services) => {
  assertNotCrossSite(req);
  const id = req.query.get('restore');
  if (id === null) throw new MethodNotAllowedError('method-not-allowed', 'POST is only used for ?restore=VERSION', ALLOWED_METHODS);
  if (id === '') throw new BadRequestError('?restore needs a version id');
  return services.writes.run([{ path: req.path, tree: false }], async () => {
    const target = await loadResource(req, services, req.path);
    if (target.stat?.isCollection) throw new MethodNotAllowedError('is-a-collection', `${target.href} is a collection`, ALLOWED_METHODS);
    await requireParentCollection(req, services, req.path);
    await checkPreconditions(req, services, target, {
      writes: [{ path: req.path, depth: '0' }],
      membershipChanges: target.stat ? [] : [req.path],
    });
    try {
      const restored = await restoreVersion(services, req.path, id);
      const stat = await services.store.stat(req.path);
      const headers = stat ? versionHeaders(restored.etag, stat) : {};
      return { status: restored.created ? 201 : 204, headers };
    } catch (err) {
      if (err instanceof UnknownVersionError) throw new NotFoundError(`${target.href}?version=${id}`);
      throw err;
    }
  });
};
