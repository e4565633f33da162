/**
 * PUT (RFC 9110 §9.3.4, RFC 4918 §9.7): the body is streamed into a temporary file beside the
 * target and renamed over it only when complete, so the old content stays whole until then.
 * 201 for a new resource, 204 for a replaced one, both with ETag and Last-Modified.
 */
import type { DavRequest, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, requireParentCollection, versionHeaders, factsOf, type Resource } from './support/resource';
import { refuseDuplicateName, creationClaims } from './support/equivalentNames';
import { BadRequestError, MethodNotAllowedError, StaleVersionError } from '../conditions/davErrors';
import { checkStaleUpload } from '../conditions/staleVersion';
import { hasContentRange } from '../headers/contentRange';
import { parseOcMtime } from '../headers/ocMtime';
import { parseIfHeader, submittedLockTokens } from '../headers/ifHeader';
import { ROOT } from '../paths/davPath';
import { replaceKeepingOld } from '../versions/replaceKeepingOld';

const COLLECTION_METHODS = 'OPTIONS, GET, HEAD, DELETE, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK';

export const put: MethodHandler = async (req, services) => {
  // A partial PUT would silently store a fragment as the whole file (RFC 9110 §14.5): refuse it.
  if (hasContentRange(req.header('content-range'))) {
    throw new BadRequestError('Content-Range on PUT (partial upload) is not supported; send the whole file');
  }
  const declaredMtimeMs = parseOcMtime(req.header('x-oc-mtime'));
  const expectedLength = req.contentLength ?? expectedEntityLength(req.header('x-expected-entity-length'));
  if (req.path === ROOT) throw new MethodNotAllowedError('is-a-collection', 'PUT on the root collection', COLLECTION_METHODS);

  return services.writes.run(creationClaims(services, req.path, false), async () => {
    const target = await loadResource(req, services, req.path);
    if (target.stat?.isCollection) {
      throw new MethodNotAllowedError('is-a-collection', `${target.href} is a collection`, COLLECTION_METHODS);
    }
    await requireParentCollection(req, services, req.path);
    if (!target.stat) await refuseDuplicateName(req, services, req.path);
    await checkPreconditions(req, services, target, {
      writes: [{ path: req.path, depth: '0' }],
      membershipChanges: target.stat ? [] : [req.path],
    });

    if (target.stat) refuseStaleUpload(req, services, target, declaredMtimeMs);

    // Nothing is lost: the bytes being replaced stay in retention (a hard link, not a copy).
    const replaced = target.stat ? { path: req.path, etag: target.etag ?? '', size: target.stat.size, mtimeMs: target.stat.mtimeMs, ino: target.stat.ino } : null;
    const { result: written } = await replaceKeepingOld(services.retention, services.store, replaced, 'overwrite', () =>
      services.store.writeAtomic(req.path, req.body, { expectedLength, mtimeMs: declaredMtimeMs }),
    );
    const { stat, created } = written;
    const etag = services.versions.recordNewContent(req.path, stat);
    const headers: Record<string, string> = { ...versionHeaders(etag, stat), 'OC-ETag': etag };
    if (declaredMtimeMs !== undefined) headers['X-OC-MTime'] = 'accepted';
    return { status: created ? 201 : 204, headers };
  });
};

/** macOS Finder sends chunked bodies with their length in X-Expected-Entity-Length. */
function expectedEntityLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new BadRequestError('invalid X-Expected-Entity-Length');
  return n;
}

/** semantics.md "Stale uploads": 409 stale-version, remembered so rclone's clean-up DELETE cannot destroy the newer file. */
function refuseStaleUpload(req: DavRequest, services: Services, target: Resource, declaredMtimeMs: number | undefined): void {
  const stat = target.stat!;
  const submitted = submittedLockTokens(parseIfHeader(req.header('if')));
  try {
    checkStaleUpload(
      {
        enabled: services.config.staleUploadCheck,
        declaredMtimeMs,
        current: { size: stat.size, mtimeMs: stat.mtimeMs, etag: target.etag },
        ifMatch: req.header('if-match'),
        holdsOwnLock: services.locks.covering(req.path).some((lock) => submitted.has(lock.token) && services.access.mayUseLock(req.user, lock)),
      },
      factsOf(target),
    );
  } catch (err) {
    if (err instanceof StaleVersionError) services.staleRefusals.record(req.path, req.clientId, target.etag);
    throw err;
  }
}
