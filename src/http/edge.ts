/**
 * The HTTP edge: the only code that touches node:http. It adapts the request, dispatches to the
 * method handler, and writes the DavResponse; every thrown error is rendered here, in one place.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { DavResponse, MethodHandler, Services } from '../methods/context';
import { adaptRequest } from './requestAdapter';
import { toDavError } from './errorMapping';
import { renderDavError, INTERNAL_ERROR } from './errorResponse';
import { prefersProblemJson } from '../headers/accept';
import { UnsupportedMethodError } from '../conditions/davErrors';
import { hrefOf } from '../paths/davPath';
import { ALLOWED_METHODS } from '../methods/allowedMethods';
import { isUiRequest, uiAnswer } from '../web/uiRoutes';
import { BROWSER_HEADERS } from '../web/pageSecurity';

/** Headers on every answer: WebDAV compliance classes (RFC 4918 §10.1) and Windows' authoring hint. */
const COMMON_HEADERS = { DAV: '1, 2', 'MS-Author-Via': 'DAV', ...BROWSER_HEADERS };

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createRequestListener(
  handlers: Readonly<Record<string, MethodHandler>>,
  services: Services,
  log: (line: string) => void,
): RequestListener {
  return (req, res) => {
    const started = process.hrtime.bigint();
    void handle(req, handlers, services, log)
      .then((response) => {
        write(req, res, response, log);
        if (services.config.accessLog) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          log(`${req.method} ${req.url} ${response.status} ${ms.toFixed(1)}ms`);
        }
      })
      .catch((err: unknown) => {
        // Never let one request take the process down: answer a bare 500 if still possible.
        log(`failed to answer ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Length': 0, Connection: 'close' });
          res.end();
        } else {
          res.destroy();
        }
      });
  };
}

async function handle(
  req: IncomingMessage,
  handlers: Readonly<Record<string, MethodHandler>>,
  services: Services,
  log: (line: string) => void,
): Promise<DavResponse> {
  try {
    if (req.url === '*' && req.method === 'OPTIONS') return { status: 200, headers: { Allow: ALLOWED_METHODS } };
    const request = adaptRequest(req);
    if (isUiRequest(request)) return await uiAnswer(request, services);
    const handler = Object.prototype.hasOwnProperty.call(handlers, request.method) ? handlers[request.method] : undefined;
    if (!handler) throw new UnsupportedMethodError(request.method);
    request.user = await services.access.admit(request);
    return await handler(request, services);
  } catch (err) {
    const hrefOfExisting = async (path: string) => hrefOf(path, (await services.store.stat(path).catch(() => null))?.isCollection ?? false);
    const davError = await toDavError(err, hrefOfExisting);
    if (davError) return renderDavError(davError, prefersProblemJson(req.headers.accept));
    log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return INTERNAL_ERROR;
  }
}

function write(req: IncomingMessage, res: ServerResponse, response: DavResponse, log: (line: string) => void): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number | string[]> = { ...COMMON_HEADERS, ...response.headers };
  // A body we never read would be drained before the connection can be reused: for a large one,
  // close the connection instead (RFC 9112 §9.6).
  if (!req.complete && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 65536)) {
    headers.Connection = 'close';
  }
  const body = response.body;
  const bodyless = req.method === 'HEAD' || response.status === 204 || response.status === 304;
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (!bodyless && headers['Content-Length'] === undefined) headers['Content-Length'] = bytes?.length ?? 0;
    res.writeHead(response.status, headers);
    res.end(bodyless ? undefined : bytes);
    return;
  }
  res.writeHead(response.status, headers);
  if (bodyless) {
    (body as Readable).destroy();
    res.end();
    return;
  }
  pipeline(body as Readable, res, (err) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') log(`response stream failed: ${err.message}`);
  });
}
