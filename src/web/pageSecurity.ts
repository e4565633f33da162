/**
 * The browser-facing security rules: the page's Content-Security-Policy, the sandbox that keeps
 * stored files from running script in keepdav's origin, and the cross-site POST refusal.
 */
import type { DavRequest } from '../methods/context';
import { ForbiddenError } from '../conditions/davErrors';

/** On every answer: no MIME sniffing (a text file never becomes HTML) and no full URLs leaked to other sites. */
export const BROWSER_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin' };

/**
 * The collection page: scripts and styles only from keepdav's own origin (no inline script or
 * style, CSP Level 3), no plugins, not framed by other sites (clickjacking).
 */
export const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'Cache-Control': 'no-cache',
};

/**
 * A stored file is the user's content, not keepdav's: `Content-Security-Policy: sandbox` gives it
 * an opaque origin and no script (CSP Level 3 §6.3.2.1), so an uploaded HTML or SVG file shown in
 * the browser can neither run script nor reach keepdav's cookies or API. PDF is left out: browsers
 * refuse to show PDF in a sandboxed document, and its viewer never runs script in the origin.
 */
export function storedContentHeaders(contentType: string): Record<string, string> {
  if (contentType === 'application/pdf') return {};
  return { 'Content-Security-Policy': 'sandbox' };
}

/** The header the page sends on every state-changing request; a cross-site form cannot set headers. */
export const UI_REQUEST_HEADER = 'x-keepdav-ui';

/**
 * POST is the one state-changing method a cross-site HTML form can send without a CORS preflight
 * (Fetch standard, "CORS-safelisted method"); PUT, DELETE, MOVE... always need a preflight, which
 * keepdav never grants. A POST is refused (403 `cross-site-request`) when it carries a browser's
 * marks of a cross-site request (an `Origin` other than this host, or `Sec-Fetch-Site: cross-site`
 * / `same-site`) and neither a matching Origin nor the page's custom header. Browsers send `Origin`
 * on every POST (also `Origin: null` under a no-referrer policy); requests with none of these marks
 * come from programs such as curl, which no web page can drive, and are served as before.
 */
export function assertNotCrossSite(req: DavRequest): void {
  if (req.header(UI_REQUEST_HEADER) !== undefined) return;
  const origin = req.header('origin');
  const fetchSite = req.header('sec-fetch-site');
  if (origin !== undefined) {
    if (sameAuthority(origin, req.header('host'))) return;
    throw crossSite(`the Origin ${origin.slice(0, 100)} is not this server`);
  }
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') throw crossSite(`Sec-Fetch-Site: ${fetchSite.slice(0, 40)}`);
}

function sameAuthority(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === new URL(`${url.protocol}//${host}`).host.toLowerCase();
  } catch {
    return false;
  }
}

function crossSite(why: string): ForbiddenError {
  return new ForbiddenError('cross-site-request', `refused a state-changing request from another site (${why}); send a matching Origin or the ${UI_REQUEST_HEADER} header`);
}
