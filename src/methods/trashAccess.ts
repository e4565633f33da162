/**
 * The trash over HTTP (semantics.md, "Nothing is lost"): `GET /dir/?trash` lists what was
 * deleted at or below /dir/ and can still be restored, as JSON (the shape is documented in
 * README.md and stable, for web pages built on it):
 *   { "href": "/dir/", "path": "/dir", "deleted": [ { "href", "path", "name", "deletedAt",
 *     "size", "etag", "lastModified", "reason", "versionId", "versions": [ids, newest first] } ] }
 * A deleted file is restored with POST /dir/a.txt?restore=<versionId> (see versionAccess.ts).
 */
import type { DavRequest, DavResponse, Services } from './context';
import { BadRequestError } from '../conditions/davErrors';
import { listTrash } from '../versions/trash';
import { formatHttpDate } from '../headers/httpDate';
import { baseName } from '../paths/davPath';

export function isTrashRequest(req: DavRequest): boolean {
  return req.query.has('trash');
}

/** GET ?trash on a collection (also a deleted one). */
export async function trashAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  const here = await services.store.stat(req.path);
  if (here && !here.isCollection) throw new BadRequestError(`?trash lists a collection; ${req.hrefOf(req.path, false)} is a file`);
  const entries = await listTrash(services.retention, req.path, async (p) => (await services.store.stat(p)) !== null);
  const deleted = entries.map((e) => ({
    href: req.hrefOf(e.path, false),
    path: e.path,
    name: baseName(e.path),
    deletedAt: new Date(e.newest.retainedAtMs).toISOString(),
    size: e.newest.size,
    etag: e.newest.etag,
    lastModified: formatHttpDate(e.newest.mtimeMs),
    reason: e.newest.reason,
    versionId: e.newest.id,
    versions: e.versionIds,
  }));
  const body = JSON.stringify({ href: req.hrefOf(req.path, true), path: req.path, deleted }, null, 1);
  return { status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: req.method === 'HEAD' ? undefined : body };
}
