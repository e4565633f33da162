/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the 100 (Continue) is sent only when the upload is
 * going to be read, so a refused PUT (409 missing parent, 423 locked, 412, 401) is answered before
 * its body travels, and the connection is then closed (the client may or may not send the body).
 */
import { connect, type Socket } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { parseRawResponse } from '../support/rawHttp';
import { lockPath } from '../support/davHttpKit';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  expect((await t.request('PUT', '/held.txt', { body: 'kept' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

const MIB = 1024 * 1024;

/** A client that sends the head of a request (PUT unless told) with Expect: 100-continue and then waits, as curl and Cyberduck do. */
async function expectingClient(path: string, contentLength: number, extraHeaders = '', method = 'PUT') {
  const socket: Socket = connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  let failure: Error | undefined;
  socket.on('error', (err) => (failure = err));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Length: ${contentLength}\r\nExpect: 100-continue\r\n${extraHeaders}\r\n`);
  const text = () => Buffer.concat(chunks).toString('latin1');
  /** Waits until `pattern` is in what the server sent (at most `ms`). */
  const waitFor = async (pattern: RegExp, ms = 3000): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pattern.test(text())) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return pattern.test(text());
  };
  return { socket, text, waitFor, closed, failure: () => failure };
}

describe('a PUT that will be refused is refused before its body is sent', () => {
  it('409 for a missing parent comes without a 100 Continue, and the connection closes', async () => {
    const client = await expectingClient('/missing/big.bin', 512 * MIB);
    expect(await client.waitFor(/^HTTP\/1\.1 409 /m)).toBe(true);
    expect(client.text()).not.toContain('100 Continue');
    expect(parseRawResponse(Buffer.from(client.text(), 'latin1')).headers.connection).toBe('close');
    client.socket.end();
    await client.closed;
    expect(client.failure()).toBeUndefined();
    expect(await readdir(t.root)).not.toContain('missing');
  });

  it('423 for a locked file comes without a 100 Continue; the file keeps its content', async () => {
    const { token } = await lockPath(t, '/held.txt');
    const client = await expectingClient('/held.txt', 64 * MIB);
    expect(await client.waitFor(/^HTTP\/1\.1 423 /m)).toBe(true);
    expect(client.text()).not.toContain('100 Continue');
    client.socket.end();
    await client.closed;
    expect(await readFile(join(t.root, 'held.txt'), 'utf8')).toBe('kept');
    expect((await t.request('UNLOCK', '/held.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
  });

  it('412 for a failed If-Match comes without a 100 Continue, even for a small body (the connection is not reused)', async () => {
    const client = await expectingClient('/held.txt', 1000, 'If-Match: "not-the-etag"\r\n');
    expect(await client.waitFor(/^HTTP\/1\.1 412 /m)).toBe(true);
    expect(client.text()).not.toContain('100 Continue');
    expect(parseRawResponse(Buffer.from(client.text(), 'latin1')).headers.connection).toBe('close');
    client.socket.end();
    await client.closed;
  });

  it('a client that sends its body anyway after the refusal is drained, not reset', async () => {
    const client = await expectingClient('/missing/anyway.bin', 32 * MIB);
    expect(await client.waitFor(/^HTTP\/1\.1 409 /m)).toBe(true);
    for (let i = 0; i < 32; i++) {
      await new Promise<void>((resolve, reject) => client.socket.write(Buffer.alloc(MIB, 0x61), (err) => (err ? reject(err) : resolve())));
    }
    client.socket.end();
    await client.closed;
    expect(client.failure()).toBeUndefined();
  });
});

describe('a PUT that will be stored gets its 100 Continue', () => {
  it('the 100 comes once the server reads the body, then the upload is stored (201)', async () => {
    const body = Buffer.alloc(3 * MIB, 0x62);
    const client = await expectingClient('/stored.bin', body.length);
    expect(await client.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/)).toBe(true);
    client.socket.write(body);
    expect(await client.waitFor(/HTTP\/1\.1 201 /)).toBe(true);
    client.socket.end();
    await client.closed;
    expect((await readFile(join(t.root, 'stored.bin'))).equals(body)).toBe(true);
  });

  it.each([
    ['PROPFIND', '/', 'Depth: 1\r\n', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>', 207],
    ['LOCK', '/new-lock.txt', '', '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>', 201],
  ])('a %s gets its 100 too, when its XML body is read', async (method, path, headers, xml, status) => {
    const body = Buffer.from(xml);
    const client = await expectingClient(path, body.length, `${headers}Content-Type: text/xml\r\n`, method);
    expect(await client.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/)).toBe(true);
    client.socket.write(body);
    expect(await client.waitFor(new RegExp(`HTTP/1\\.1 ${status} `))).toBe(true);
    client.socket.end();
    await client.closed;
  });
});
