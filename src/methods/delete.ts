/** DELETE (RFC 4918 §9.6): removes a file or a whole collection, with its properties and locks. */
import { randomUUID } from 'node:crypto';
import type { DavRequest, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, type Resource } from './support/resource';
import { BadRequestError, ForbiddenError, NotFoundError, RefusedUploadDeleteError, StaleDeleteError } from '../conditions/davErrors';
import { factsOf } from './support/resource';
import { resolveEquivalentPath } from './support/equivalentNames';
import { parseDepth } from '../headers/depth';
import { ROOT, type DavPath } from '../paths/davPath';
import { CommitOutstandingError } from '../concurrency/outstandingCommit';

export const del: MethodHandler = async (req, services) => {
  const depth = parseDepth(req.header('depth'));
  if (req.path === ROOT) throw new ForbiddenError('root-not-deletable', 'the root collection cannot be deleted');
  const path = await resolveEquivalentPath(req, services, req.path);
  // Nothing is removed unless the user may write everything it would remove.
  services.access.requireSubtree(req.user, path, 'write', req.hrefOf(path, false));

  return services.state.claims.run([{ path, tree: true }], async () => {
    try {
      const target = await loadResource(req, services, path);
      if (!target.stat) throw new NotFoundError(target.href);
      // §9.6.1: DELETE on a collection acts as Depth: infinity, and no other Depth may be sent for it.
      // The rule is about collections only: on a file any Depth changes nothing (lftp sends Depth: 0).
      if (target.stat.isCollection && depth !== undefined && depth !== 'infinity') {
        throw new BadRequestError('DELETE of a collection takes no Depth other than infinity');
      }
      await checkPreconditions(req, services, target, {
        writes: [{ path: path, depth: target.stat.isCollection ? 'infinity' : '0' }],
        membershipChanges: [path],
      });
      await refuseCleanupAfterRefusal(req, services, path, target);
      await services.tree.remove(path);
      if (!target.stat.isCollection) {
        await services.cleanupGuard.recordDeletion(path, req.clientId, { etag: target.etag, mtimeMs: target.stat.mtimeMs, size: target.stat.size });
      }
      return { status: 204 };
    } catch (err) {
      // A clean-up DELETE retried through a lock (423) stays protected when the lock is released.
      // (Not one that was carried out, its record waiting for the state database.)
      if (!(err instanceof CommitOutstandingError)) await services.cleanupGuard.rearmRefusal(path, req.clientId);
      throw err;
    }
  }, { id: randomUUID(), method: 'DELETE', path: path });
};

/**
 * rclone deletes what it failed to upload (semantics.md), with no condition: not the version its
 * upload was just refused for, whether for age (stale-delete) or another reason (refused-upload-delete).
 */
async function refuseCleanupAfterRefusal(req: DavRequest, services: Services, path: DavPath, target: Resource): Promise<void> {
  const unconditional = req.header('if-match') === undefined && req.header('if') === undefined;
  if (!unconditional || target.stat?.isCollection) return;
  const refusal = await services.cleanupGuard.refusalOf(path, req.clientId);
  if (!refusal) return;
  if (refusal.code === 'stale-version') throw new StaleDeleteError(factsOf(target));
  throw new RefusedUploadDeleteError(refusal, factsOf(target));
}
