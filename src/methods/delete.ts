/** DELETE (RFC 4918 §9.6): removes a file or a whole collection, with its properties and locks. */
import { randomUUID } from 'node:crypto';
import type { MethodHandler } from './context';
import { loadResource, checkPreconditions } from './support/resource';
import { BadRequestError, ForbiddenError, NotFoundError, StaleDeleteError } from '../conditions/davErrors';
import { factsOf } from './support/resource';
import { resolveEquivalentPath } from './support/equivalentNames';
import { parseDepth } from '../headers/depth';
import { ROOT } from '../paths/davPath';

export const del: MethodHandler = async (req, services) => {
  // §9.6.1: DELETE on a collection acts as Depth: infinity; any other Depth is an error.
  const depth = parseDepth(req.header('depth'));
  if (depth !== undefined && depth !== 'infinity') throw new BadRequestError('DELETE takes no Depth other than infinity');
  if (req.path === ROOT) throw new ForbiddenError('root-not-deletable', 'the root collection cannot be deleted');
  const path = await resolveEquivalentPath(services, req.path);
  // Nothing is removed unless the user may write everything it would remove.
  services.access.requireSubtree(req.user, path, 'write', req.hrefOf(path, false));

  return services.writes.run([{ path, tree: true }], async () => {
    const target = await loadResource(req, services, path);
    if (!target.stat) throw new NotFoundError(target.href);
    await checkPreconditions(req, services, target, {
      writes: [{ path: path, depth: target.stat.isCollection ? 'infinity' : '0' }],
      membershipChanges: [path],
    });
    // rclone deletes what it failed to upload (semantics.md): not the newer file a stale upload was refused for.
    const unconditional = req.header('if-match') === undefined && req.header('if') === undefined;
    if (unconditional && services.staleRefusals.recentlyRefused(path, req.clientId, target.etag)) {
      throw new StaleDeleteError(factsOf(target));
    }
    await services.tree.remove(path);
    return { status: 204 };
  }, { id: randomUUID(), method: 'DELETE', path: path });
};
