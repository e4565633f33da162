/** Who the page's user is and what they may do at a path, as the page shows it (GET /.keepdav-ui/whoami). */
import type { DavRequest, Services } from '../methods/context';
import type { DavPath } from '../paths/davPath';

export interface Identity {
  /** The signed-in user's name; null when the server has no authentication. */
  user: string | null;
  /** Whether PUT, MKCOL, MOVE, DELETE and restores are allowed at the path. */
  canWrite: boolean;
}

export function identityOf(_req: DavRequest, _services: Services, _path: DavPath): Identity {
  return { user: null, canWrite: true };
}
