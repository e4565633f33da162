/**
 * Builds the DavRequest a handler sees from a node:http request: the URL decoded and contained
 * once (architecture rule 9), headers read by name, the body bounded.
 */
import type { IncomingMessage } from 'node:http';
import { davPathFromUrlPath, hrefOf, BadPathError, type DavPath } from '../paths/davPath';
import type { DavRequest } from '../methods/context';
import { PayloadTooLargeError, BadRequestError } from '../conditions/davErrors';

/** The path part of a request-target or URI, without query or fragment; null when not http(s) or not a path. */
export function urlPathOf(target: string): string | null {
  let path = target;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    try {
      const url = new URL(target);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      path = url.pathname;
    } catch {
      return null;
    }
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  return path.startsWith('/') ? path : null;
}

export function adaptRequest(raw: IncomingMessage): DavRequest {
  const target = raw.url ?? '/';
  // RFC 9112 §3.2: a request-target carries no fragment; acting on "/coll/#frag" as "/coll/" would be unsafe.
  if (target.includes('#')) throw new BadRequestError('the request-target must not contain a fragment (#)');
  const urlPath = urlPathOf(target);
  if (urlPath === null) throw new BadRequestError(`cannot serve the request-target ${JSON.stringify(target.slice(0, 200))}`);
  const path = davPathFromUrlPath(urlPath);
  const lengthHeader = raw.headers['content-length'];
  const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) {
    throw new BadRequestError('invalid Content-Length');
  }
  const chunked = raw.headers['transfer-encoding'] !== undefined;

  const queryStart = target.indexOf('?');
  const clientAddress = raw.socket.remoteAddress ?? '';
  return {
    method: raw.method ?? 'GET',
    path,
    query: new URLSearchParams(queryStart >= 0 ? target.slice(queryStart + 1) : ''),
    trailingSlash: urlPath.length > 1 && urlPath.endsWith('/'),
    header(name: string): string | undefined {
      const value = raw.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    clientId: `${clientAddress} ${raw.headers['user-agent'] ?? ''}`,
    clientAddress,
    user: null,
    hasBody: chunked || (contentLength ?? 0) > 0,
    contentLength,
    body: raw,
    readBody: (limit) => readBounded(raw, limit, contentLength),
    hrefOf: (p: DavPath, isCollection: boolean) => hrefOf(p, isCollection),
    pathOfUri(uri: string): DavPath | null {
      const p = urlPathOf(uri);
      if (p === null) return null;
      try {
        return davPathFromUrlPath(p);
      } catch (err) {
        if (err instanceof BadPathError) return null;
        throw err;
      }
    },
  };
}

async function readBounded(raw: IncomingMessage, limit: number, contentLength: number | undefined): Promise<Buffer> {
  if (contentLength !== undefined && contentLength > limit) throw new PayloadTooLargeError(`the request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of raw) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new PayloadTooLargeError(`the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
