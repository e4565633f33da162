/**
 * The HTTP edge: the only code that touches node:http. It adapts the request, dispatches to the
 * method handler, and writes the DavResponse; every thrown error is rendered here, in one place.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import type { DavRequest, DavResponse, MethodHandler, Services } from '../methods/context';
import type { Logger } from '../logging/logger';
import { requestIdOf, bytesOfExchange, type AccessEntry } from './accessEntry';
import { adaptRequest, edgeSettingsOf, type EdgeSettings } from './requestAdapter';
import { toDavError } from './errorMapping';
import { renderDavError, INTERNAL_ERROR } from './errorResponse';
import { prefersProblemJson } from '../headers/accept';
import { BadRequestError, HeadersTooLargeError, UnsupportedMethodError } from '../conditions/davErrors';
import { hrefOf } from '../paths/davPath';
import { allowedMethodsOf } from '../methods/allowedMethods';
import { ConnectionTurns } from './connectionTurns';
import { xmlContentTypeFor } from './xmlMediaType';
import { directSendFor } from './zeroCopySend';
import { closeLingering, lingerOnClose } from './lingeringClose';
import { forgoContinue } from './expectContinue';
import { isUiRequest, uiAnswer } from '../web/uiRoutes';
import { BROWSER_HEADERS } from '../web/pageSecurity';
import type { FileBytes } from '../storage/resourceStore';

/** Headers on every answer: WebDAV compliance classes (RFC 4918 §10.1) and Windows' authoring hint. */
const COMMON_HEADERS = { DAV: '1, 2', 'MS-Author-Via': 'DAV', ...BROWSER_HEADERS };

/** A fresh copy of COMMON_HEADERS, the start of one answer's headers. */
function commonHeaders(): Record<string, string | number | string[]> {
  const headers: Record<string, string | number | string[]> = {};
  for (const name in COMMON_HEADERS) headers[name] = COMMON_HEADERS[name as keyof typeof COMMON_HEADERS];
  return headers;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The status the edge wrote straight to a connection whose request node:http could not parse
 * (answerClientError), for the access entry of a request that was under way on it.
 */
const answeredOnSocket = new WeakMap<Socket, number>();

/**
 * The access log's status of a request that ended before its handler's answer was sent, and
 * nothing was written for it either: the client closed the connection first (nginx's 499).
 */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * node:http's 'clientError': a request it could not parse, or a body that broke off (a client
 * that closed its side mid-body). Answers it, when the connection still takes an answer, with the
 * error body every answer has: 501 unsupported-method for a method node's parser does not know
 * (RFC 9110 §15.6.2), 431 headers-too-large for headers past the limit, otherwise 400 bad-request
 * naming what the parser found.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    // Answered already and lingering: node:http reports each later read as another error; the
    // bytes are read, so dropping them sends no reset.
    if (answeredOnSocket.has(socket as Socket) && !socket.destroyed) return;
    socket.destroy(err);
    return;
  }
  const error = err.code === 'HPE_INVALID_METHOD' ? new UnsupportedMethodError(methodOf(err))
    : err.code === 'HPE_HEADER_OVERFLOW' ? new HeadersTooLargeError()
    : new BadRequestError(`the request could not be parsed as HTTP/1.1: ${(err as { reason?: string }).reason ?? err.code ?? err.message}`);
  const answer = renderDavError(error, false);
  answerOnSocket(socket, answer.status, answer.headers, Buffer.from(answer.body as string));
}

/** The method of a request node:http's parser refused, from the bytes it kept (a token, at most 32 characters). */
function methodOf(err: NodeJS.ErrnoException): string {
  const raw = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 64).toString('latin1') ?? '';
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(?= )/.exec(raw)?.[0] ?? 'the method';
}

/**
 * node:http's 'connect' listener: CONNECT asks for a tunnel through a proxy (RFC 9110 §9.3.6),
 * which keepdav is not, and without a listener node:http drops the connection unanswered. It is
 * answered as any method keepdav does not implement (501 unsupported-method), then closed.
 */
export function answerConnect(_req: IncomingMessage, socket: Duplex): void {
  const answer = renderDavError(new UnsupportedMethodError('CONNECT'), false);
  answerOnSocket(socket, answer.status, answer.headers, Buffer.from(answer.body as string));
}

/**
 * Writes a whole answer straight to a connection node:http does not serve (a request it could not
 * parse, a CONNECT), then closes it: the client may still be sending a body, which is drained
 * first (RFC 9112 §9.6).
 */
function answerOnSocket(socket: Duplex, status: number, headers: DavResponse['headers'] = {}, body = Buffer.alloc(0)): void {
  // The same fields as every other answer (README "In a browser": nosniff and Referrer-Policy on every answer).
  const fields = Object.entries({ ...headers, ...COMMON_HEADERS, Connection: 'close', 'Content-Length': body.length })
    .map(([name, value]) => `${name}: ${value}\r\n`).join('');
  answeredOnSocket.set(socket as Socket, status);
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${fields}\r\n`);
  if (body.length > 0) socket.write(body);
  closeLingering(socket as Socket);
}

/** Told of every request: when it starts and, once its connection is done with it, what it did. */
export interface RequestObserver {
  requestStarted(): void;
  requestFinished(entry: AccessEntry): void;
}

/** What handling produced: the answer, the stable code of an error answer, and the adapted request. */
interface Outcome {
  response: DavResponse;
  code?: string;
  request?: DavRequest;
}

export function createRequestListener(
  handlers: Readonly<Record<string, MethodHandler>>,
  services: Services,
  logger: Logger,
  observers: readonly RequestObserver[] = [],
): RequestListener {
  const edge = edgeSettingsOf(services.config);
  const turns = new ConnectionTurns();
  return (req, res) => {
    const started = process.hrtime.bigint();
    const reqId = requestIdOf(req);
    // Taken now: node detaches the socket from the request once the answer is done.
    const socket = req.socket;
    const peer = socket?.remoteAddress ?? '';
    let outcome: Outcome | undefined;
    for (const observer of observers) observer.requestStarted();
    res.once('close', () => {
      turns.end(socket);
      const { bytesIn, bytesOut } = bytesOfExchange(socket);
      const entry: AccessEntry = {
        reqId,
        // Proxy-aware (--trust-proxy) once the request was adapted; the socket's peer before that.
        client: outcome?.request?.clientAddress ?? peer,
        user: outcome?.request?.user ?? undefined,
        method: req.method ?? '',
        path: (req.url ?? '').slice(0, 1024),
        // res.statusCode is 200 until an answer is written: a request cut short has none of its own.
        status: res.headersSent ? res.statusCode : (answeredOnSocket.get(socket) ?? CLIENT_CLOSED_REQUEST),
        bytesIn,
        bytesOut,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3,
        userAgent: req.headers['user-agent'],
        code: outcome?.code,
        aborted: res.writableFinished ? undefined : true,
      };
      for (const observer of observers) {
        try {
          observer.requestFinished(entry);
        } catch (err) {
          logger.error({ err, reqId }, 'recording a finished request failed');
        }
      }
    });
    turns.take(socket, () => {
      void handle(req, handlers, services, logger, reqId, edge)
        .then((result) => {
          outcome = result;
          write(req, res, result.response, reqId, logger);
        })
        .catch((err: unknown) => {
          // Never let one request take the process down: answer a bare 500 if still possible.
          logger.error({ err, reqId, method: req.method, path: req.url }, 'failed to answer');
          if (!res.headersSent) {
            if (!req.complete) answerBeforeBody(req);
            res.writeHead(500, { 'Content-Length': 0, Connection: 'close', 'X-Request-Id': reqId });
            res.end();
          } else {
            res.destroy();
          }
        });
    });
  };
}

async function handle(
  req: IncomingMessage,
  handlers: Readonly<Record<string, MethodHandler>>,
  services: Services,
  logger: Logger,
  reqId: string,
  edge: EdgeSettings,
): Promise<Outcome> {
  let request: DavRequest | undefined;
  try {
    if (req.url === '*' && req.method === 'OPTIONS') return { response: { status: 200, headers: { Allow: allowedMethodsOf(services.access.readOnly) } } };
    request = adaptRequest(req, edge);
    if (isUiRequest(request)) return { response: await uiAnswer(request, services), request };
    const handler = Object.prototype.hasOwnProperty.call(handlers, request.method) ? handlers[request.method] : undefined;
    if (!handler) throw new UnsupportedMethodError(request.method);
    request.user = await services.access.admit(request);
    return { response: await handler(request, services), request };
  } catch (err) {
    const hrefOfExisting = async (path: string) => hrefOf(path, (await services.store.stat(path).catch(() => null))?.isCollection ?? false, edge.basePath);
    const davError = await toDavError(err, hrefOfExisting, (req.url ?? '/').split('?')[0]);
    // Damaged state and a full disk need an administrator: say so in the log, not only to the client.
    if (davError && (davError.status === 410 || davError.status === 507)) logger.warn({ reqId, method: req.method, path: req.url, status: davError.status, code: davError.code }, davError.message);
    if (davError) return { response: renderDavError(davError, prefersProblemJson(req.headers.accept)), code: davError.code, request };
    logger.error({ err, reqId, method: req.method, path: req.url }, 'internal error');
    return { response: INTERNAL_ERROR, code: 'internal-error', request };
  }
}

function write(req: IncomingMessage, res: ServerResponse, response: DavResponse, reqId: string, logger: Logger): void {
  if (res.headersSent || res.destroyed) return;
  // Copied key by key into a fresh literal: spreading two objects cost more than the copy.
  const headers: Record<string, string | number | string[]> = commonHeaders();
  const own = response.headers;
  for (const name in own) headers[name] = own[name];
  headers['X-Request-Id'] = reqId;
  if (typeof headers['Content-Type'] === 'string') headers['Content-Type'] = xmlContentTypeFor(req.headers['content-type'], headers['Content-Type']);
  if (!req.complete && answerBeforeBody(req)) headers.Connection = 'close';
  // RFC 9112 §6.1: after an HTTP/1.0 message with Transfer-Encoding, the framing of what follows cannot be trusted.
  else if (req.httpVersion === '1.0' && req.headers['transfer-encoding'] !== undefined) headers.Connection = 'close';
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
  if (sendsItself(body)) {
    // A file's bytes go out by sendfile when large (zeroCopySend.ts), else through two reused buffers (storage/fileContent.ts).
    const length = Number(headers['Content-Length']);
    body.sendTo(res, length, directSendFor(res, length)).catch((err: Error) => logger.warn({ err, path: req.url }, 'response stream failed'));
    return;
  }
  sendStream(body as Readable, res, (err) => logger.warn({ err, path: req.url }, 'response stream failed'));
}

/** The most of an unread body the connection is kept for: node:http drains it before the next request. */
const DRAINED_BODY_MAX = 64 * 1024;

/**
 * Readies the connection of a request answered before its body was read to its end: no 100
 * (Continue) follows, and a close lingers so that the answer reaches a client still sending
 * (RFC 9112 §9.6). True when the answer must close the connection: a body never asked for may never
 * come (RFC 9110 §10.1.1), and a large or chunked one is not worth draining for the next request.
 */
function answerBeforeBody(req: IncomingMessage): boolean {
  const bodyNeverAsked = forgoContinue(req);
  lingerOnClose(req);
  return bodyNeverAsked || req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > DRAINED_BODY_MAX;
}

/**
 * Pipes a streamed body (a listing) into the answer: a body that fails cuts the answer, and an
 * answer closed first (the client left) destroys the body, which closes what it reads. What
 * stream.pipeline does here, without the AbortController it makes for every call and the
 * DOMException (with its stack) that its end makes: 1-2 % of a listing's main-thread time.
 */
function sendStream(body: Readable, res: ServerResponse, failed: (err: Error) => void): void {
  body.once('error', (err) => {
    failed(err);
    res.destroy(err);
  });
  res.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(res);
}

/** A body the store opened from a file (ResourceStore.openRead): it writes itself to the socket. */
function sendsItself(body: Readable): body is FileBytes {
  return typeof (body as Partial<FileBytes>).sendTo === 'function';
}
