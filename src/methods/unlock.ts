/** UNLOCK (RFC 4918 §9.11): removes the lock the Lock-Token header names, if it applies to the URL. */
import type { MethodHandler } from './context';
import { loadResource, checkPreconditions } from './support/resource';
import { LockTokenMismatchError } from '../conditions/davErrors';
import { parseLockTokenHeader } from '../headers/lockToken';
import { LockNotFoundError } from '../locks/lockErrors';
import { lockCovers } from '../locks/activeLock';
import { resolveEquivalentPath } from './support/equivalentNames';

export const unlock: MethodHandler = async (req, services) => {
  const token = parseLockTokenHeader(req.header('lock-token'));
  const path = await resolveEquivalentPath(req, services, req.path);
  const target = await loadResource(req, services, path);
  await checkPreconditions(req, services, target);
  // The common case in one step: the user's own lock, applying to the Request-URI.
  if (await services.locks.releaseOwned(token, path, req.user)) return { status: 204 };
  const lock = await services.locks.byToken(token);
  // §9.11.1 before ownership: a token whose lock does not apply to the Request-URI is 409 for
  // anyone, so another user learns nothing of where that lock is.
  if (lock === undefined || !lockCovers(lock, path)) throw new LockTokenMismatchError(token, target.href);
  // RFC 4918 §6.4: a lock belongs to the user who took it; another user's UNLOCK is refused.
  services.access.requireLockOwner(req.user, lock, req.hrefOf(lock.root, false));
  try {
    await services.locks.release(token, path, lock);
  } catch (err) {
    // §9.11.1: a token that identifies no lock applying to the Request-URI is 409.
    if (err instanceof LockNotFoundError) throw new LockTokenMismatchError(token, target.href);
    throw err;
  }
  return { status: 204 };
};
