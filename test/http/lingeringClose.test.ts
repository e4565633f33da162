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

/** A client on a raw TCP socket that goes on writing after the server's FIN (allowHalfOpen), as neon does. */
interface RawClient {
  socket: Socket;
  /** Writes `chunk`; rejects when the connection refuses it (the server reset it). */
  send(chunk: Buffer | string): Promise<void>;
  /** Everything the server sent so far. */
  received(): Buffer;
  /** The socket's error, if one came (ECONNRESET, EPIPE). */
  failure(): NodeJS.ErrnoException | undefined;
  /** Whether the server's FIN has arrived. */
  serverEnded(): boolean;
  /** Resolves once the connection is closed on this side. */
  closed: Promise<void>;
}

async function openRawClient(port: number): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  let ended = false;
  let failure: NodeJS.ErrnoException | undefined;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('end', () => (ended = true));
  socket.on('error', (err) => (failure = err));
  return {
    socket,
    send: (chunk) => new Promise((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve()))),
    received: () => Buffer.concat(chunks),
    failure: () => failure,
    serverEnded: () => ended,
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

/** Sends `head` and then `parts` in order, each as soon as the connection takes it; the error that stopped it, if one did. */
async function sendAll(client: RawClient, head: string, parts: Iterable<Buffer>): Promise<Error | undefined> {
  try {
    await client.send(Buffer.from(head, 'latin1'));
    for (const part of parts) await client.send(part);
    return client.failure();
  } catch (err) {
    return client.failure() ?? (err as Error);
  }
}

function* repeated(part: Buffer, times: number): Iterable<Buffer> {
  for (let i = 0; i < times; i++) yield part;
}

/** The answer in `client`, once its head and Content-Length bytes are all in (10 s at most). */
async function answerOf(client: RawClient): Promise<RawResponse> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const raw = client.received();
    const headEnd = raw.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const parsed = parseRawResponse(raw);
      if (raw.length - headEnd - 4 >= Number(parsed.headers['content-length'] ?? 0)) return parsed;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no complete answer; the connection's error: ${String(client.failure())}`);
}

/** Ends the client's side once the server has had time to answer, and waits for the close. */
async function finish(client: RawClient): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
  client.socket.end();
  await client.closed;
}

/**
 * A keep-alive PUT of `bodyBytes` written to its end before anything is read, then the answer
 * read, then the client's own close: how neon sends a body.
 */
async function sendAllThenRead(port: number, path: string, bodyBytes: number) {
  const client = await openRawClient(port);
  const sendError = await sendAll(client, `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${bodyBytes}\r\n\r\n`, repeated(Buffer.alloc(MIB, 0x61), bodyBytes / MIB));
  const answer = await answerOf(client);
  await new Promise((r) => setTimeout(r, 50));
  const serverEndedFirst = client.serverEnded();
  const clientEnd = Date.now();
  client.socket.end();
  await client.closed;
  return { sendError: sendError ?? client.failure(), answer, serverEndedFirst, closeAfterClientEndMs: Date.now() - clientEnd };
}

describe('an answer given before a large body was read', () => {
  it('409 for a missing parent reaches a client that sends the whole body first; the connection then closes cleanly', async () => {
    const result = await sendAllThenRead(t.port, '/missing/report.bin', BODY_BYTES);
    expect(result.sendError).toBeUndefined();
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
    const client = await openRawClient(t.port);
    const chunk = Buffer.concat([Buffer.from(`${MIB.toString(16)}\r\n`), Buffer.alloc(MIB, 0x62), Buffer.from('\r\n')]);
    const head = `PUT /missing/chunked.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const sendError = await sendAll(client, head, [...repeated(chunk, 64), Buffer.from('0\r\n\r\n')]);
    await finish(client);
    expect(sendError).toBeUndefined();
    expect(parseRawResponse(client.received()).status).toBe(409);
  });

  it('a 400 for a body node:http cannot parse (a bad chunk size) reaches a client that goes on sending', async () => {
    const client = await openRawClient(t.port);
    const head = `PUT /bad-chunks.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\nZZZ\r\n`;
    const sendError = await sendAll(client, head, repeated(Buffer.alloc(MIB, 0x64), 64));
    await finish(client);
    expect(sendError).toBeUndefined();
    expect(parseRawResponse(client.received()).status).toBe(400);
    expect(await readdir(t.root)).not.toContain('bad-chunks.bin');
  });

  it(`a client that stalls mid-body has its connection closed after ${LINGER_IDLE_MS} ms without bytes`, async () => {
    const client = await openRawClient(t.port);
    const head = `PUT /missing/stalled.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`;
    expect(await sendAll(client, head, [Buffer.alloc(MIB, 0x63)])).toBeUndefined();
    await new Promise((r) => setTimeout(r, LINGER_IDLE_MS + 1500));
    // The server's half-close arrived long ago; its full close shows when more of the body is sent.
    expect(client.serverEnded()).toBe(true);
    expect(parseRawResponse(client.received()).status).toBe(409);
    client.socket.write(Buffer.alloc(MIB, 0x63), () => undefined);
    await Promise.race([client.closed, new Promise((r) => setTimeout(r, 3000))]);
    expect(client.socket.destroyed).toBe(true);
    expect(['ECONNRESET', 'EPIPE']).toContain(client.failure()?.code);
  }, 20_000);

  it('the connection stays usable after a small body answered early (keep-alive, drained by the server)', async () => {
    const first = await t.request('PUT', '/missing/small.txt', { body: 'x'.repeat(1000) });
    expect(first.status).toBe(409);
    expect(first.headers.connection).not.toBe('close');
    expect((await t.request('GET', '/held.txt')).status).toBe(200);
  });
});
