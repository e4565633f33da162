/**
 * An answer given before a large body was read (409 for a missing parent, 423 for a locked file)
 * reaches a client that sends the whole body before it reads, as neon (cadaver, davfs2) does: the
 * server half-closes and drains the rest instead of resetting the connection (RFC 9112 §9.6),
 * then closes once the client has, or once the client has stalled for LINGER_IDLE_MS.
 */
import { connect, type Socket } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { parseRawResponse, type RawResponse } from '../support/rawHttp';
import { lockPath } from '../support/davHttpKit';
import { LINGER_IDLE_MS } from '../../src/http/lingeringClose';

const MIB = 1024 * 1024;
/** More than the loopback socket buffers of both sides hold, so the server must read to take it all. */
const BODY_BYTES = 64 * MIB;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

interface SendAllThenRead {
  /** The error a write of the body met, if one did (the server reset the connection). */
  sendError?: Error;
  bytesSent: number;
  answer: RawResponse;
  /** Whether the server had sent its FIN once the answer was in (before the client closed). */
  serverEndedFirst: boolean;
  /** Milliseconds from the client's own end to the connection's close. */
  closeAfterClientEndMs: number;
}

function written(socket: Socket, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve())));
}

/**
 * A keep-alive PUT of `bodyBytes` written to its end before anything is read, then the answer
 * read, then the client's own close: how neon sends a body.
 */
async function sendAllThenRead(port: number, path: string, bodyBytes: number, extraHeaders = ''): Promise<SendAllThenRead> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received: Buffer[] = [];
  let serverEnded = false;
  let socketError: Error | undefined;
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('end', () => (serverEnded = true));
  socket.on('error', (err) => (socketError = err));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let sendError: Error | undefined;
  let bytesSent = 0;
  try {
    await written(socket, Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${bodyBytes}\r\n${extraHeaders}\r\n`, 'latin1'));
    const chunk = Buffer.alloc(MIB, 0x61);
    while (bytesSent < bodyBytes) {
      const part = chunk.subarray(0, Math.min(MIB, bodyBytes - bytesSent));
      await written(socket, part);
      bytesSent += part.length;
    }
  } catch (err) {
    sendError = err as Error;
  }
  // The answer is complete once its head and Content-Length bytes are in.
  const deadline = Date.now() + 10_000;
  let answer: RawResponse | undefined;
  while (Date.now() < deadline) {
    const raw = Buffer.concat(received);
    const headEnd = raw.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const parsed = parseRawResponse(raw);
      if (raw.length - headEnd - 4 >= Number(parsed.headers['content-length'] ?? 0)) {
        answer = parsed;
        break;
      }
    }
    if (socketError !== undefined && sendError === undefined) sendError = socketError;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (answer === undefined) throw new Error(`no complete answer; send error ${String(sendError ?? socketError)}`);
  await new Promise((r) => setTimeout(r, 50));
  const serverEndedFirst = serverEnded;
  const clientEnd = Date.now();
  socket.end();
  await closed;
  return { sendError: sendError ?? socketError, bytesSent, answer, serverEndedFirst, closeAfterClientEndMs: Date.now() - clientEnd };
}

describe('an answer given before a large body was read', () => {
  it('409 for a missing parent reaches a client that sends the whole body first; the connection then closes cleanly', async () => {
    const result = await sendAllThenRead(t.port, '/missing/report.bin', BODY_BYTES);
    expect(result.sendError).toBeUndefined();
    expect(result.bytesSent).toBe(BODY_BYTES);
    expect(result.answer.status).toBe(409);
    expect(result.answer.headers.connection).toBe('close');
    expect(result.answer.text).toContain('<D:error');
    expect(result.serverEndedFirst).toBe(true);
    expect(result.closeAfterClientEndMs).toBeLessThan(2000);
    expect(await readdir(t.root)).not.toContain('missing');
  });

  it('423 for a locked file reaches the client and the file keeps its content', async () => {
    expect((await t.request('PUT', '/held.txt', { body: 'kept' })).status).toBe(201);
    const { token } = await lockPath(t, '/held.txt');
    const result = await sendAllThenRead(t.port, '/held.txt', BODY_BYTES);
    expect(result.sendError).toBeUndefined();
    expect(result.answer.status).toBe(423);
    expect(result.answer.text).toContain('lock-token-submitted');
    expect(await readFile(join(t.root, 'held.txt'), 'utf8')).toBe('kept');
    expect((await t.request('UNLOCK', '/held.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
  });

  it('a chunked body answered early is drained the same way', async () => {
    const socket = connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    let sendError: Error | undefined;
    socket.on('error', (err) => (sendError = err));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await written(socket, Buffer.from(`PUT /missing/chunked.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nTransfer-Encoding: chunked\r\n\r\n`, 'latin1'));
    const chunk = Buffer.concat([Buffer.from(`${MIB.toString(16)}\r\n`), Buffer.alloc(MIB, 0x62), Buffer.from('\r\n')]);
    for (let i = 0; i < 64; i++) await written(socket, chunk);
    await written(socket, Buffer.from('0\r\n\r\n'));
    await new Promise((r) => setTimeout(r, 200));
    socket.end();
    await closed;
    expect(sendError).toBeUndefined();
    expect(parseRawResponse(Buffer.concat(received)).status).toBe(409);
  });

  it('a 400 for a body node:http cannot parse (a bad chunk size) reaches a client that goes on sending', async () => {
    const socket = connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    let sendError: Error | undefined;
    socket.on('error', (err) => (sendError = err));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      await written(socket, Buffer.from(`PUT /bad-chunks.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\nZZZ\r\n`, 'latin1'));
      for (let i = 0; i < 64; i++) await written(socket, Buffer.alloc(MIB, 0x64));
    } catch (err) {
      sendError = sendError ?? (err as Error);
    }
    await new Promise((r) => setTimeout(r, 200));
    socket.end();
    await closed;
    expect(sendError).toBeUndefined();
    expect(parseRawResponse(Buffer.concat(received)).status).toBe(400);
    expect(await readdir(t.root)).not.toContain('bad-chunks.bin');
  });

  it(`a client that stalls mid-body has its connection closed after ${LINGER_IDLE_MS} ms without bytes`, async () => {
    const socket = connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    let serverEnded = false;
    socket.on('end', () => (serverEnded = true));
    let failure: NodeJS.ErrnoException | undefined;
    socket.on('error', (err) => (failure = err));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await written(socket, Buffer.from(`PUT /missing/stalled.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`, 'latin1'));
    await written(socket, Buffer.alloc(MIB, 0x63));
    await new Promise((r) => setTimeout(r, LINGER_IDLE_MS + 1500));
    // The server's half-close arrived long ago; its full close shows when more of the body is sent.
    expect(serverEnded).toBe(true);
    expect(parseRawResponse(Buffer.concat(received)).status).toBe(409);
    socket.write(Buffer.alloc(MIB, 0x63), () => undefined);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    expect(socket.destroyed).toBe(true);
    expect(['ECONNRESET', 'EPIPE']).toContain(failure?.code);
  }, 20_000);

  it('the connection stays usable after a small body answered early (keep-alive, drained by the server)', async () => {
    const first = await t.request('PUT', '/missing/small.txt', { body: 'x'.repeat(1000) });
    expect(first.status).toBe(409);
    expect(first.headers.connection).not.toBe('close');
    expect((await t.request('GET', '/held.txt')).status).toBe(200);
  });
});
