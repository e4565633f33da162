/**
 * GET <base>?signin&to=/dir/: the page's "Sign in" where anonymous users may read (--anonymous
 * read). A browser sends credentials only after a 401 challenge, and a readable folder never
 * answers one, so a signed-in user could not become one from the page. This URL challenges
 * (401, RFC 9110 §11.6.1) until the browser signs in, then sends it on to the folder it came from
 * (303 See Other, RFC 9110 §15.4.4). At the top of the served tree, so that the browser then
 * sends the credentials for every path below it (RFC 7617 §2.2, the protection space).
 */
import type { DavRequest, DavResponse, Services } from '../methods/context';
import { ROOT } from '../paths/davPath';

export function isSignInRequest(req: DavRequest): boolean {
  return req.path === ROOT && req.query.has('signin');
}

export function signInAnswer(req: DavRequest, services: Services): DavResponse {
  services.access.requireSignedIn(req.user, req.hrefOf(ROOT, true));
  // Only a path of this server (anything else: the top of the tree), never another site.
  const asked = req.query.get('to');
  const to = (asked && asked.startsWith('/') && !asked.startsWith('//') ? req.pathOfUri(asked) : null) ?? ROOT;
  return { status: 303, headers: { Location: req.hrefOf(to, true), 'Cache-Control': 'no-store' } };
}
