/**
 * GET and HEAD (RFC 9110 §9.3.1, §9.3.2): files are streamed, with Range/If-Range (§14) and
 * conditional GET (§13); a collection answers a small HTML index.
 */
import type { DavRequest, DavResponse, MethodHandler, Services } from './context';
import { loadSettledResource, checkPreconditions, versionHeaders, type Resource } from './support/resource';
import { NotFoundError, RangeNotSatisfiableError } from '../conditions/davErrors';
import { parseRange, ifRangeAllows } from '../headers/range';
import { isEntityTag } from '../headers/entityTag';
import { checksumHeader } from '../headers/ocChecksum';
import { contentTypeOf } from '../props/contentType';
import { indexHead, indexRow, INDEX_TAIL, pagedIndexTail } from './support/collectionIndex';
import { indexPageOf } from '../web/indexPaging';
import type { ResourceStat } from '../storage/resourceStat';
import { LISTING_BATCH } from './support/multistatusStream';
import { listingBody } from './support/listingBody';
import { setImmediate as turnOfEventLoop } from 'node:timers/promises';
import { isVersionRequest, versionAnswer } from './versionAccess';
import { isTrashRequest, trashAnswer } from './trashAccess';
import { isSignInRequest, signInAnswer } from '../web/signIn';
import { resolveEquivalentPath } from './support/equivalentNames';
import { baseName } from '../paths/davPath';
import { storedContentHeaders, PAGE_HEADERS } from '../web/pageSecurity';
import { pageHead } from '../web/uiRoutes';
import { SmallFileCache } from '../storage/smallFileCache';
import { ReplacedMeanwhileError } from '../storage/storageErrors';

/** Files up to this size are answered from one buffer instead of a stream. */
const SMALL_FILE_BYTES = 64 * 1024;
/** Their bytes, while unchanged on disk (validated by the stat loadResource took). */
const smallFiles = new SmallFileCache(SMALL_FILE_BYTES);

/**
 * How often a GET starts afresh when the file it stat'ed was replaced before it was opened (a
 * PUT's rename in between): each attempt answers the version it found, with that version's
 * preconditions, ETag and length, never one version's headers over another's bytes. The last
 * attempt's ReplacedMeanwhileError is a 503 (file-busy).
 */
const ANSWER_ATTEMPTS = 8;

export const get: MethodHandler = async (req, services) => {
  if (isVersionRequest(req)) return versionAnswer(req, services);
  if (isSignInRequest(req)) return signInAnswer(req, services);
  if (isTrashRequest(req)) return trashAnswer(req, services);
  for (let attempt = 1; ; attempt++) {
    try {
      return await currentAnswer(req, services);
    } catch (err) {
      if (!(err instanceof ReplacedMeanwhileError) || attempt === ANSWER_ATTEMPTS) throw err;
    }
  }
};

async function currentAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  const resource = await loadSettledResource(req, services, await resolveEquivalentPath(req, services, req.path));
  const stat = resource.stat;
  if (!stat) throw new NotFoundError(resource.href);
  // A folder's time does not change when a member changes in place, so the index it shows is never
  // "not modified since" a date: only If-None-Match can make it 304.
  const notModified = (await checkPreconditions(req, services, resource)) === 'not-modified';
  if (notModified && !(stat.isCollection && req.header('if-none-match') === undefined)) {
    return { status: 304, headers: versionHeaders(resource.etag, stat) };
  }
  if (stat.isCollection) return collectionAnswer(req, services, resource);
  return fileAnswer(req, services, resource);
}

async function fileAnswer(req: DavRequest, services: Services, resource: Resource): Promise<DavResponse> {
  const stat = resource.stat!;
  const contentType = contentTypeOf(resource.path);
  // Assigned one by one, not spread: object spreads were a tenth of a small GET's own CPU.
  const headers = versionHeaders(resource.etag, stat) as Record<string, string | number>;
  headers['Content-Type'] = contentType;
  headers['Accept-Ranges'] = 'bytes';
  Object.assign(headers, storedContentHeaders(contentType));
  // The whole file's checksum, also on a range (ownCloud's checksum extension); known when written through keepdav.
  const digests = resource.digests === undefined ? await services.versions.digestsOf(resource.path, stat) : resource.digests;
  if (digests) headers['OC-Checksum'] = checksumHeader(digests);
  const rangeHeader = req.header('range');
  const range = rangeHeader !== undefined && (await rangeAllowed(req.header('if-range'), services, resource))
    ? parseRange(rangeHeader, stat.size)
    : null;
  if (range === 'unsatisfiable') throw new RangeNotSatisfiableError(stat.size);
  const head = req.method === 'HEAD';
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${stat.size}`;
    headers['Content-Length'] = range.end - range.start + 1;
    return { status: 206, headers, body: head ? undefined : await services.store.openRead(resource.path, range, stat) };
  }
  if (head || stat.size === 0) return { status: 200, headers: { ...headers, 'Content-Length': stat.size } };
  if (stat.size <= SMALL_FILE_BYTES) {
    // One read into a buffer beats a stream for small files; the length is what was read.
    const bytes = smallFiles.get(stat) ?? smallFiles.remember(stat, await services.store.readSmall(resource.path, SMALL_FILE_BYTES, stat), Date.now());
    return { status: 200, headers, body: bytes };
  }
  headers['Content-Length'] = stat.size;
  return { status: 200, headers, body: await services.store.openRead(resource.path, undefined, stat) };
}

/**
 * If-Range (RFC 9110 §13.1.5): an entity-tag must match strongly; a date must equal the
 * modification time to the second and be a strong validator (§8.8.2.2): the file cannot have
 * had another content in that second. So the time must be the file's own write time (not one a
 * client set, by X-OC-Mtime or PROPPATCH, which its ctime then postdates), and no kept version of
 * the path may have a modification time in that second; without kept versions no one can tell,
 * and the whole file is sent.
 */
async function rangeAllowed(ifRange: string | undefined, services: Services, resource: Resource): Promise<boolean> {
  const stat = resource.stat!;
  if (!ifRangeAllows(ifRange, resource.etag, stat.mtimeMs)) return false;
  if (ifRange === undefined || isEntityTag(ifRange.trim())) return true;
  const second = Math.floor(stat.mtimeMs / 1000);
  if (Math.floor(stat.ctimeMs / 1000) !== second || !services.retention.enabled) return false;
  return (await services.retention.list(resource.path)).every((v) => Math.floor(v.mtimeMs / 1000) !== second);
}

/** The HTML index, streamed a batch of members at a time in directory order (bounded memory for huge collections). */
async function collectionAnswer(req: DavRequest, services: Services, resource: Resource): Promise<DavResponse> {
  const headers = { ...versionHeaders(null, resource.stat!), 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS };
  if (req.method === 'HEAD') return { status: 200, headers };
  const paged = indexPageOf(req);
  const batches = await services.store.listInBatches(resource.path, LISTING_BATCH);
  async function* page(): AsyncGenerator<string> {
    try {
      yield indexHead(resource.href, resource.path === '/', pageHead(req));
      let seen = 0;
      for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
        let members = batch.filter((m) => services.access.mayRead(req.user, m.path));
        if (paged) {
          // A browser's page: members skip..skip+rows-1 of the readable ones (src/web/indexPaging.ts).
          const from = Math.max(0, paged.skip - seen);
          seen += members.length;
          if (seen > paged.skip + paged.rows) {
            yield rowsOf(members.slice(from, members.length - (seen - paged.skip - paged.rows)));
            yield pagedIndexTail(paged, paged.rows, true);
            return;
          }
          members = members.slice(from);
        }
        yield rowsOf(members);
        await turnOfEventLoop();
      }
      yield paged ? pagedIndexTail(paged, Math.max(0, Math.min(paged.rows, seen - paged.skip)), false) : INDEX_TAIL;
    } finally {
      await batches.close();
    }
  }
  function rowsOf(members: ResourceStat[]): string {
    return members.map((m) => indexRow({ name: baseName(m.path), href: req.hrefOf(m.path, m.isCollection), isCollection: m.isCollection, size: m.size, mtimeMs: m.mtimeMs })).join('');
  }
  return { status: 200, headers, body: listingBody(page(), batches) };
}
