/**
 * Builds the DavRequest a handler sees from a node:http request: the URL decoded and contained
 * once (architecture rule 9), headers read by name, the body bounded.
 */
import type { IncomingMessage } from 'node:http';
import { davPathFromUrlPath, hrefOf, BadPathError, type DavPath } from '../paths/davPath';
import type { DavRequest } from '../methods/context';
import { PayloadTooLargeError, BadRequestError, NotFoundError, UnsupportedTransferCodingError } from '../conditions/davErrors';
import { stripBasePath } from '../paths/basePath';
import { clientViewOf, compileTrust, type TrustTest, type ClientView } from './proxyTrust';
import type { TLSSocket } from 'node:tls';

/** What the edge needs from the configuration to map a request: the base path and the trusted proxies. */
export interface EdgeSettings {
  basePath: string;
  trustsProxy: TrustTest;
}

export const DIRECT_EDGE: EdgeSettings = { basePath: '', trustsProxy: () => false };

export function edgeSettingsOf(config: { basePath: string; trustProxy: readonly string[] }): EdgeSettings {
  return { basePath: config.basePath, trustsProxy: compileTrust(config.trustProxy) };
}

/** "scheme://authority" at the start of an absolute URI: the authority (userinfo included) in group 1. */
const SCHEME_AND_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i;

/** The path part of a request-target or URI, without query or fragment; null when not http(s) or not a path. */
export function urlPathOf(target: string): string | null {
  let path = target;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    try {
      const url = new URL(target);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    } catch {
      return null;
    }
    // The path as sent, not as the URL parser resolves it: its "." and ".." segments and
    // backslashes are refused by the path rules as in origin-form, never quietly resolved.
    const authority = SCHEME_AND_AUTHORITY.exec(target);
    if (authority === null) return null;
    const rest = target.slice(authority[0].length);
    if (rest.startsWith('\\')) return null;
    path = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  return path.startsWith('/') ? path : null;
}

/** The host[:port] of an absolute-form request-target (which the Host header then does not override), or undefined. */
function authorityOf(target: string): string | undefined {
  if (target.startsWith('/')) return undefined;
  const authority = SCHEME_AND_AUTHORITY.exec(target);
  return authority === null ? undefined : authority[1].replace(/^[^@]*@/, '');
}

/** One header's value by lower-case name; repeated headers joined with ", ". */
function headerReader(raw: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = raw.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** Who sent `raw`: its address, scheme and host, believing forwarding headers from trusted proxies only. */
export function clientOf(raw: IncomingMessage, edge: EdgeSettings): ClientView {
  return clientViewOf(raw.socket.remoteAddress ?? '', (raw.socket as TLSSocket).encrypted === true, headerReader(raw), edge.trustsProxy);
}

/** A URL path below the base path as a DavPath; null when outside the base path or not a valid path. */
function davPathBelow(urlPath: string, basePath: string): DavPath | null {
  const inner = stripBasePath(urlPath, basePath);
  if (inner === null) return null;
  try {
    return davPathFromUrlPath(inner);
  } catch (err) {
    if (err instanceof BadPathError) return null;
    throw err;
  }
}

/** How many field lines of `rawHeaders` (node:http's name, value, name, value...) are named `name` (lower case). */
function countOf(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].length === name.length && rawHeaders[i].toLowerCase() === name) count++;
  return count;
}

export function adaptRequest(raw: IncomingMessage, edge: EdgeSettings = DIRECT_EDGE): DavRequest {
  const target = raw.url ?? '/';
  // RFC 9112 §3.2: a request-target carries no fragment; acting on "/coll/#frag" as "/coll/" would be unsafe.
  if (target.includes('#')) throw new BadRequestError('the request-target must not contain a fragment (#)');
  const fullUrlPath = urlPathOf(target);
  if (fullUrlPath === null) throw new BadRequestError(`cannot serve the request-target ${JSON.stringify(target.slice(0, 200))}`);
  // --base-path: keepdav answers only below it; the base path itself (with or without "/") is the root.
  const urlPath = stripBasePath(fullUrlPath, edge.basePath);
  if (urlPath === null) throw new NotFoundError(fullUrlPath.slice(0, 200));
  const path = davPathFromUrlPath(urlPath);
  const header = headerReader(raw);
  const client = clientOf(raw, edge);
  const ownHost = header('host');
  const lengthHeader = raw.headers['content-length'];
  const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) {
    throw new BadRequestError('invalid Content-Length');
  }
  const codings = raw.headers['transfer-encoding'];
  const chunked = codings !== undefined;
  // RFC 9112 §6.1: node:http de-chunks "gzip, chunked" and would hand over the gzip bytes as the body.
  if (chunked && codings.trim().toLowerCase() !== 'chunked') throw new UnsupportedTransferCodingError(codings);
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing (the edge closes the connection after the answer).
  if (chunked && raw.httpVersion === '1.0') throw new BadRequestError('an HTTP/1.0 request cannot have a Transfer-Encoding');
  // RFC 9112 §3.2: more than one Host field line is a 400 (node:http keeps the first).
  if (ownHost !== undefined && countOf(raw.rawHeaders, 'host') > 1) throw new BadRequestError('more than one Host header');

  const queryStart = target.indexOf('?');
  return {
    method: raw.method ?? 'GET',
    path,
    query: new URLSearchParams(queryStart >= 0 ? target.slice(queryStart + 1) : ''),
    trailingSlash: urlPath.length > 1 && urlPath.endsWith('/'),
    header,
    headerCount: (name: string) => countOf(raw.rawHeaders, name),
    clientId: `${client.address} ${raw.headers['user-agent'] ?? ''}`,
    clientAddress: client.address,
    viaTrustedProxy: client.viaTrustedProxy,
    authority: authorityOf(target) ?? ownHost,
    hostsOfThisServer: [ownHost, client.host].filter((h): h is string => h !== undefined),
    user: null,
    hasBody: chunked || (contentLength ?? 0) > 0,
    contentLength,
    body: raw,
    readBody: (limit) => readBounded(raw, limit, contentLength),
    hrefOf: (p: DavPath, isCollection: boolean) => hrefOf(p, isCollection, edge.basePath),
    pathOfUri(uri: string): DavPath | null {
      const p = urlPathOf(uri);
      return p === null ? null : davPathBelow(p, edge.basePath);
    },
  };
}

async function readBounded(raw: IncomingMessage, limit: number, contentLength: number | undefined): Promise<Buffer> {
  if (contentLength !== undefined && contentLength > limit) throw new PayloadTooLargeError(`the request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of raw) {
      total += (chunk as Buffer).length;
      if (total > limit) throw new PayloadTooLargeError(`the request body is larger than ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof PayloadTooLargeError) throw err;
    // The client closed the connection mid-body, or its chunked framing broke: the client's
    // doing (RFC 9112 §6.3, §7.1), a 400 and never an internal error.
    throw new BadRequestError(`the request body ended before its end (${(err as Error)?.message ?? err})`);
  }
  return Buffer.concat(chunks, total);
}
