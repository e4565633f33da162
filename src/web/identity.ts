/** Who the page's user is and what they may do at a path, as the page shows it (GET /.keepdav-ui/whoami). */
import type { DavRequest, Services } from '../methods/context';
import type { DavPath } from '../paths/davPath';

export interface Identity {
  /** The signed-in user's name; null when anonymous. */
  user: string | null;
  /** Whether PUT, MKCOL, MOVE, DELETE and restores are allowed at the path (the page hides them otherwise). */
  canWrite: boolean;
  /** Anonymous where users exist (--anonymous read): the page offers "Sign in" (GET <base>?signin, signIn.ts). */
  canSignIn: boolean;
}

/**
 * Signs the request in as any request to `path` would be (401 without credentials where users are
 * required, 403 when the user may not read `path`), then asks the access rules about writing there.
 */
export async function identityOf(req: DavRequest, services: Services, path: DavPath): Promise<Identity> {
  // The same sign-in and read check as a PROPFIND of `path` (a view of the request with that method and path).
  const user = await services.access.admit(Object.assign(Object.create(req) as DavRequest, { method: 'PROPFIND', path }));
  const canSignIn = user === null && services.access.hasUsers;
  if (services.access.readOnly) return { user, canWrite: false, canSignIn };
  try {
    services.access.require(user, path, 'write', req.hrefOf(path, true));
    return { user, canWrite: true, canSignIn };
  } catch {
    return { user, canWrite: false, canSignIn };
  }
}
