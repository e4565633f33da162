/**
 * One HTTP request for the load generator: node:http, a caller-supplied keep-alive Agent, the
 * response body drained (and optionally kept as text), the request body a buffer or a stream of
 * chunks written with back-pressure.
 *
 * Usage:
 *   const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
 *   const res = await sendRequest({ agent, method: 'GET', url: new URL('/a', base) });
 *   res.status, res.bytes, res.headers
 *
 * Rejects on network errors and on `idleTimeoutMs` without socket activity; resolves with any
 * HTTP status (checking it is the caller's business).
 */
import * as http from 'node:http';

export interface HttpRequestSpec {
  agent: http.Agent;
  method: string;
  url: URL;
  headers?: http.OutgoingHttpHeaders;
  /** A whole body, or chunks produced on demand (send Content-Length in `headers` if known). */
  body?: Buffer | string | AsyncIterable<Buffer>;
  /** Keep the response body as UTF-8 text (default: drain and count only). */
  keepText?: boolean;
  /** Sees every response chunk, for content checks on large downloads. */
  onChunk?: (chunk: Buffer) => void;
  idleTimeoutMs?: number;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  text: string | null;
}

export function sendRequest(spec: HttpRequestSpec): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = http.request(spec.url, { method: spec.method, headers: spec.headers, agent: spec.agent });
    req.setTimeout(spec.idleTimeoutMs ?? 15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        spec.onChunk?.(chunk);
        if (spec.keepText) chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('response cut short'));
      });
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          text: spec.keepText ? Buffer.concat(chunks).toString('utf8') : null,
        });
      });
    });
    writeBody(req, spec.body).catch((error: Error) => req.destroy(error));
  });
}

async function writeBody(req: http.ClientRequest, body: HttpRequestSpec['body']): Promise<void> {
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    req.end(body);
    return;
  }
  for await (const chunk of body) {
    if (req.destroyed) return;
    if (!req.write(chunk)) await drained(req);
  }
  req.end();
}

/** Resolves when the request can take more data or has closed (the server answered early and hung up). */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** A short name for a failure, for the error tallies. */
export function failureReason(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(error);
}
