/**
 * Raw HTTP/1.1 over a TCP socket, for request-targets and bodies that node:http's client would
 * refuse or rewrite (a "#", "..", a NUL escape, a hand-made chunked body). One request per
 * connection (`Connection: close`); the answer is read until the server closes.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case header names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
  /** Everything the server sent, head included. */
  raw: Buffer;
}

/** Decodes a chunked body (RFC 9112 §7.1); trailers are ignored. */
function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(pos, lineEnd).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

export function parseRawResponse(raw: Buffer, method = 'GET'): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`no complete response head in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const lines = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!statusMatch) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(headEnd + 4);
  const status = Number(statusMatch[1]);
  if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
  else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, body, text: body.toString('utf8'), raw };
}

/**
 * Sends `head` (request line and headers, without the blank line; `Host` and
 * `Connection: close` are added when missing) and `body` as they are, then reads until close.
 */
export function rawRequest(port: number, head: string, body: string | Buffer = Buffer.alloc(0), timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let text = head.replace(/\r?\n$/, '');
    if (!/\r\nhost:/i.test(text)) text += `\r\nHost: 127.0.0.1:${port}`;
    if (!/\r\nconnection:/i.test(text)) text += '\r\nConnection: close';
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(head.split('\r\n')[0])}`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(Buffer.concat([Buffer.from(text + '\r\n\r\n', 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]));
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A server may answer early (413) and close while the body is still being sent: the write
    // then fails (EPIPE, ECONNRESET), but the answer already read is what counts.
    let failure: Error | undefined;
    socket.on('error', (err) => {
      failure = err; // 'close' follows and parses whatever arrived
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (chunks.length === 0 && failure) {
        reject(failure);
        return;
      }
      try {
        resolve(parseRawResponse(Buffer.concat(chunks), head.split(' ')[0]));
      } catch (err) {
        reject(err);
      }
    });
  });
}
