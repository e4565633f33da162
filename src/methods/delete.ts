/** DELETE (RFC 4918 §9.6): removes a file or a whole collection, with its properties and locks. */
import type { MethodHandler } from './context';
import { loadResource, checkPreconditions } from './support/resource';
import { BadRequestError, ForbiddenError, NotFoundError } from '../conditions/davErrors';
import { parseDepth } from '../headers/depth';
import { ROOT } from '../paths/davPath';

export const del: MethodHandler = async (req, services) => {
  // §9.6.1: DELETE on a collection acts as Depth: infinity; any other Depth is an error.
  const depth = parseDepth(req.header('depth'));
  if (depth !== undefined && depth !== 'infinity') throw new BadRequestError('DELETE takes no Depth other than infinity');
  if (req.path === ROOT) throw new ForbiddenError('root-not-deletable', 'the root collection cannot be deleted');

  return services.writes.run([{ path: req.path, tree: true }], async () => {
    const target = await loadResource(req, services, req.path);
    if (!target.stat) throw new NotFoundError(target.href);
    await checkPreconditions(req, services, target, {
      writes: [{ path: req.path, depth: 'infinity' }],
      membershipChanges: [req.path],
    });
    await services.tree.remove(req.path);
    return { status: 204 };
  });
};
