/** MKCOL (RFC 4918 §9.3): 201; 405 on an existing resource; 409 without a parent; 415 with a body. */
import type { MethodHandler } from './context';
import { loadResource, checkPreconditions, requireParentCollection } from './support/resource';
import { MethodNotAllowedError, UnsupportedMediaTypeError } from '../conditions/davErrors';
import { ALLOWED_METHODS } from './allowedMethods';
import { creationClaims, resolveEquivalentPath } from './support/equivalentNames';

export const mkcol: MethodHandler = async (req, services) => {
  // §9.3: a body we do not understand (we support no extended MKCOL) is 415.
  if (req.hasBody) throw new UnsupportedMediaTypeError('MKCOL with a request body is not supported');

  return services.state.claims.run(creationClaims(services, req.path, false), async () => {
    // §9.3.1: MKCOL on an existing resource (mapped URL) is 405; so is MKCOL by a name equivalent to an existing member's.
    // (A parent named by an equivalent spelling is the existing one: resolveEquivalentPath resolves it too.)
    const path = await resolveEquivalentPath(req, services, req.path);
    const target = await loadResource(req, services, path);
    if (target.stat) throw new MethodNotAllowedError('already-exists', `${target.href} already exists`, ALLOWED_METHODS.replace('MKCOL, ', ''), { href: target.href });
    await requireParentCollection(req, services, path);
    await checkPreconditions(req, services, target, { membershipChanges: [path] });
    await services.store.makeCollection(path);
    return { status: 201, headers: { Location: req.hrefOf(path, true) } };
  });
};
