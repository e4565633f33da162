/**
 * Requests under the reserved prefix `/.keepdav-ui/` (no stored file can have a `.keepdav-` name):
 *   GET /.keepdav-ui/<version>/<asset>   the page's script modules, stylesheet and icons
 *   GET /.keepdav-ui/whoami?path=/dir/   who is signed in and whether they may write there (JSON)
 * Everything else the page does goes through the same WebDAV and version HTTP API as any client.
 */
import type { DavRequest, DavResponse, Services } from '../methods/context';
import { ROOT, type DavPath } from '../paths/davPath';
import { NotFoundError, MethodNotAllowedError } from '../conditions/davErrors';
import { uiAssets } from './uiAssets';
import { identityOf } from './identity';

export const UI_SEGMENT = '.keepdav-ui';

export function isUiRequest(req: DavRequest): boolean {
  return req.path === `/${UI_SEGMENT}` || req.path.startsWith(`/${UI_SEGMENT}/`);
}

/** The URL prefix of the current assets, relative to the server's base (the href of the root). */
export function uiAssetPrefix(req: DavRequest): string {
  return `${req.hrefOf(ROOT, true)}${UI_SEGMENT}/${uiAssets().version}/`;
}

/** What the collection page adds to its head: viewport, the stylesheet, the script module. */
export function pageHead(req: DavRequest): string {
  const prefix = attribute(uiAssetPrefix(req));
  const base = attribute(req.hrefOf(ROOT, true));
  return `<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="keepdav-ui" content="${prefix}"><meta name="keepdav-base" content="${base}"><link rel="icon" href="${prefix}favicon.svg"><link rel="stylesheet" href="${prefix}app.css"><script type="module" src="${prefix}app.js"></script>`;
}

/** Hrefs are percent-encoded already; this keeps a configured base path from ever leaving the attribute. */
function attribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function uiAnswer(req: DavRequest, services: Services): Promise<DavResponse> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('method-not-allowed', `${req.path} is part of keepdav's page and is read-only`, 'GET, HEAD');
  const parts = req.path.slice(UI_SEGMENT.length + 2).split('/');
  if (parts.length === 1 && parts[0] === 'whoami') return whoami(req, services);
  if (parts.length !== 2) throw new NotFoundError(req.hrefOf(req.path, false));
  const assets = uiAssets();
  const found = assets.get(parts[1]);
  if (!found) throw new NotFoundError(req.hrefOf(req.path, false));
  const headers = {
    'Content-Type': found.contentType,
    ETag: found.etag,
    'Cache-Control': parts[0] === assets.version ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  // RFC 9110 §13.1.2: a strong ETag the client already has answers 304.
  const ifNoneMatch = req.header('if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === found.etag || t.trim() === '*')) return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'Content-Length': found.body.length }, body: req.method === 'HEAD' ? undefined : found.body };
}

async function whoami(req: DavRequest, services: Services): Promise<DavResponse> {
  const asked = req.query.get('path');
  const path: DavPath = asked && asked.startsWith('/') ? req.pathOfUri(asked) ?? ROOT : ROOT;
  const identity = await identityOf(req, services, path);
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ ...identity, base: req.hrefOf(ROOT, true), path: req.hrefOf(path, true) }),
  };
}
