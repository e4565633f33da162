/**
 * PUT (RFC 9110 §9.3.4, RFC 4918 §9.7): the body is streamed into a temporary file beside the
 * target and renamed over it only when complete, so the old content stays whole until then.
 * 201 for a new resource, 204 for a replaced one, both with ETag and Last-Modified.
 */
import type { DavRequest, DavResponse, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, requireParentCollection, versionHeaders, factsOf, type Resource } from './support/resource';
import { creationClaims, resolveEquivalentPath } from './support/equivalentNames';
import { BadRequestError, ChecksumMismatchError, MethodNotAllowedError, StaleRecreationError } from '../conditions/davErrors';
import { checksumHeader, contradictedClaim, digestsToCheck, parseOcChecksum, type ChecksumClaim } from '../headers/ocChecksum';
import { DavError } from '../conditions/davError';
import { IncompleteBodyError, NoSpaceError } from '../storage/storageErrors';
import { HeaderSyntaxError } from '../headers/headerSyntaxError';
import { OperationInProgressError as TreeOperationRunning } from '../concurrency/pathMutex';
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
  const checksumClaims = parseOcChecksum(req.header('oc-checksum'));
  const expectedLength = req.contentLength ?? expectedEntityLength(req.header('x-expected-entity-length'));
  if (req.path === ROOT) throw new MethodNotAllowedError('is-a-collection', 'PUT on the root collection', COLLECTION_METHODS);

  try {
    const response = await writeFile(req, services, declaredMtimeMs, expectedLength, checksumClaims);
    await services.cleanupGuard.settled(req.path, req.clientId);
    return response;
  } catch (err) {
    // Remembered so this client's clean-up DELETE cannot destroy what its upload was refused for.
    const refusal = refusalOf(err);
    if (refusal) await services.cleanupGuard.recordRefusal(req.path, req.clientId, refusal.code, refusal.status);
    throw err;
  }
};

async function writeFile(
  req: DavRequest, services: Services, declaredMtimeMs: number | undefined, expectedLength: number | undefined, checksumClaims: ChecksumClaim[],
): Promise<DavResponse> {
  return services.state.claims.run(creationClaims(services, req.path, false), async () => {
    // An NFD (or, case-insensitive, other-case) name of an existing member addresses that member.
    const path = await resolveEquivalentPath(req, services, req.path);
    const target = await loadResource(req, services, path);
    if (target.stat?.isCollection) {
      throw new MethodNotAllowedError('is-a-collection', `${target.href} is a collection`, COLLECTION_METHODS);
    }
    await requireParentCollection(req, services, path);
    await checkPreconditions(req, services, target, {
      writes: [{ path, depth: '0' }],
      membershipChanges: target.stat ? [] : [path],
    });

    if (target.stat) await refuseStaleUpload(req, services, target, declaredMtimeMs);
    else await refuseStaleRecreation(req, services, target, declaredMtimeMs);

    // Nothing is lost: the bytes being replaced stay in retention (a hard link, not a copy).
    const replaced = target.stat ? { path, etag: target.etag ?? '', size: target.stat.size, mtimeMs: target.stat.mtimeMs, ino: target.stat.ino } : null;
    // The new ETag is recorded before the answer; if the state disk refuses it, the write is undone (507, nothing behind).
    const { result: written, recorded: etag } = await replaceKeepingOld(
      services.retention, services.store, replaced, 'overwrite',
      () => services.store.writeAtomic(path, req.body, {
        expectedLength,
        mtimeMs: declaredMtimeMs,
        // A large upload is hashed on the way in only for what it claims; what it does not claim is read back after the answer (digestCompletion.ts).
        digestsNow: digestsToCheck(checksumClaims),
        // Checked before the rename: a content that is not what the client computed is never stored.
        verify: (digests) => {
          const contradicted = contradictedClaim(checksumClaims, digests);
          if (contradicted) throw new ChecksumMismatchError(contradicted.claim.type, contradicted.claim.hex, contradicted.computed, factsOf(target));
        },
      }),
      (w) => services.versions.recordNewContent(path, w.stat, w.digests),
    );
    const { stat, created, digests } = written;
    const headers = versionHeaders(etag, stat);
    headers['OC-ETag'] = etag;
    if (digests) headers['OC-Checksum'] = checksumHeader(digests);
    if (declaredMtimeMs !== undefined) headers['X-OC-MTime'] = 'accepted';
    return { status: created ? 201 : 204, headers };
  });
}

/**
 * The code and status a refused upload is remembered by: refusals because of the resource's or the
 * server's state (409, 412, 423, 5xx such as 507) and a checksum mismatch (400). A malformed or cut-off request (400, 405, 413,
 * 415) is the client's own mistake and arms nothing.
 */
function refusalOf(err: unknown): { code: string; status: number } | null {
  if (err instanceof DavError) {
    const armed = err.status === 409 || err.status === 412 || err.status === 423 || err.status >= 500 || err instanceof ChecksumMismatchError;
    return armed ? { code: err.code, status: err.status } : null;
  }
  if (err instanceof NoSpaceError) return { code: 'insufficient-storage', status: 507 };
  if (err instanceof TreeOperationRunning) return { code: 'operation-in-progress', status: 423 };
  if (err instanceof IncompleteBodyError || err instanceof HeaderSyntaxError) return null;
  return { code: 'internal-error', status: 500 };
}

/**
 * semantics.md "Stale uploads", for a path this client emptied moments ago: rclone deletes what it
 * failed to upload and then retries the upload, which would create the file anew and skip the age
 * check. A creation stating an older time than the content this client just deleted is judged
 * against that content (409 stale-version); the deleted content stays among the versions.
 */
async function refuseStaleRecreation(req: DavRequest, services: Services, target: Resource, declaredMtimeMs: number | undefined): Promise<void> {
  if (!services.config.staleUploadCheck || declaredMtimeMs === undefined) return;
  const deleted = await services.cleanupGuard.deletionOf(req.path, req.clientId);
  if (!deleted || Math.floor(declaredMtimeMs / 1000) >= Math.floor(deleted.mtimeMs / 1000)) return;
  throw new StaleRecreationError(declaredMtimeMs, deleted, factsOf(target));
}

/** macOS Finder sends chunked bodies with their length in X-Expected-Entity-Length. */
function expectedEntityLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new BadRequestError('invalid X-Expected-Entity-Length');
  return n;
}

/** semantics.md "Stale uploads": 409 stale-version (remembered by the caller, like every refusal, for rclone's clean-up DELETE). */
async function refuseStaleUpload(req: DavRequest, services: Services, target: Resource, declaredMtimeMs: number | undefined): Promise<void> {
  const stat = target.stat!;
  await checkStaleUpload(
    {
      enabled: services.config.staleUploadCheck,
      declaredMtimeMs,
      current: { size: stat.size, mtimeMs: stat.mtimeMs, etag: target.etag },
      ifMatch: req.header('if-match'),
      holdsOwnLock: async () => {
        const submitted = submittedLockTokens(parseIfHeader(req.header('if')));
        return (await services.locks.covering(req.path)).some((lock) => submitted.has(lock.token) && services.access.mayUseLock(req.user, lock));
      },
    },
    factsOf(target),
  );
}
