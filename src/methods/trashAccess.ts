/**
 * The trash over HTTP (semantics.md, "Nothing is lost"): `GET /dir/?trash` lists what was
 * deleted at or below /dir/ and can still be restored, as JSON (the shape is documented in
 * README.md and stable, for web pages built on it):
 *   { "href": "/dir/", "path": "/dir", "deleted": [ { "href", "path", "name", "deletedAt",
 *     "size", "etag", "lastModified", "reason", "versionId", "versions": [ids, newest first] } ],
 *     "next": "/dir/?trash&limit=N&after=..." (only when more entries follow) }
 * A page holds `?limit=N` entries (1 to 10,000; 1,000 when not given) and `next` is the URL of
 * the following one (trash.ts). A deleted file is restored with POST /dir/a.txt?restore=<versionId>
 * (see versionAccess.ts).
 */
import type { DavRequest, DavResponse, Services } from './context';
import { BadRequestError } from '../conditions/davErrors';
import { listTrash, servedIn } from '../versions/trash';
import { formatHttpDate } from '../headers/httpDate';
import { baseName, type DavPath } from '../paths/davPath';
import type { PathNewest } from '../state/stateStore';

const PAGE_DEFAULT = 1000;
const PAGE_MAX = 10_000;

/** `?limit` and `?after` (the `next` of the page before: `<ms>:<path>`). */
function pageOf(req: DavRequest): { limit: number; after?: PathNewest } {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? PAGE_DEFAULT : /^\d{1,5}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= PAGE_MAX)) throw new BadRequestError(`?limit takes a whole number from 1 to ${PAGE_MAX}`);
  const afterText = req.query.get('after');
  if (afterText === null) return { limit };
  const colon = afterText.indexOf(':');
  const retainedAtMs = Number(afterText.slice(0, colon));
  const path = afterText.slice(colon + 1);
  if (colon < 1 || !Number.isFinite(retainedAtMs) || !path.startsWith('/')) throw new BadRequestError('?after takes the value from the `next` URL of a trash page');
  return { limit, after: { retainedAtMs, path: path as DavPath } };
}

export function isTrashRequest(req: DavRequest): boolean {
  return req.query.has('trash');
}

/** GET ?trash on a collection (also a deleted one). */
export async function trashAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  const here = await services.store.stat(req.path);
  if (here && !here.isCollection) throw new BadRequestError(`?trash lists a collection; ${req.hrefOf(req.path, false)} is a file`);
  const { limit, after } = pageOf(req);
  // As in every listing, what the user may not read is left out (README "Users and permissions").
  const mayList = (p: DavPath): boolean => services.access.mayRead(req.user, p);
  const page = await listTrash(services.retention, req.path, servedIn(services.store), limit, after, mayList);
  const deleted = page.entries.map((e) => ({
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
  const href = req.hrefOf(req.path, true);
  const next = page.next ? `${href}?trash&limit=${limit}&after=${encodeURIComponent(`${page.next.retainedAtMs}:${page.next.path}`)}` : undefined;
  const body = JSON.stringify({ href, path: req.path, deleted, ...(next ? { next } : {}) }, null, 1);
  return { status: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: req.method === 'HEAD' ? undefined : body };
}
