/**
 * Tree operations at their edges (RFC 4918 §9.8, §9.9): COPY and MOVE onto an ancestor of the
 * source are refused with nothing changed (Overwrite: T would delete the source with the
 * destination); several Destination headers are 400, not a guess.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startTestServer, type TestServer } from '../support/testServer';
import { codeOf, walk } from '../support/conflictKit';
import { dest } from '../support/davHttpKit';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  for (const dir of ['/a', '/a/b', '/a/b/c']) expect((await t.request('MKCOL', dir)).status).toBe(201);
  expect((await t.request('PUT', '/a/b/c/leaf.txt', { body: 'leaf' })).status).toBe(201);
  expect((await t.request('PUT', '/a/top.txt', { body: 'top' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

describe('COPY / MOVE onto an ancestor of the source', () => {
  const cases: Array<[string, string, string]> = [
    ['MOVE', '/a/b/c/', '/a/'],
    ['MOVE', '/a/b/', '/a/'],
    ['COPY', '/a/b/c/', '/a/'],
    ['MOVE', '/a/b/c/leaf.txt', '/a/b/'],
    ['COPY', '/a/b/c/leaf.txt', '/a/'],
  ];
  it.each(cases)('%s %s onto %s with Overwrite: T is 403 destination-is-ancestor; nothing changed', async (method, source, destination) => {
    const before = await walk(t.root);
    const res = await t.request(method, source, { headers: { Destination: dest(t, destination), Overwrite: 'T' } });
    expect(res.status).toBe(403);
    expect(codeOf(res)).toBe('destination-is-ancestor');
    expect(await walk(t.root)).toEqual(before);
    expect(await readFile(join(t.root, 'a', 'b', 'c', 'leaf.txt'), 'utf8')).toBe('leaf');
    expect(await readFile(join(t.root, 'a', 'top.txt'), 'utf8')).toBe('top');
  });

  it('a MOVE to a sibling still works (the check is about ancestors only)', async () => {
    expect((await t.request('COPY', '/a/b/c/', { headers: { Destination: dest(t, '/a/c2/') } })).status).toBe(201);
    expect((await t.request('MOVE', '/a/c2/', { headers: { Destination: dest(t, '/a/b/c3/') } })).status).toBe(201);
    expect(await readFile(join(t.root, 'a', 'b', 'c3', 'leaf.txt'), 'utf8')).toBe('leaf');
  });
});

/** Sends a raw request (node's client would not repeat a header) and returns the status. */
function rawStatus(request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(t.port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

describe('several Destination headers', () => {
  it.each(['COPY', 'MOVE'])('%s with two Destination headers is 400; nothing changed', async (method) => {
    const before = await walk(t.root);
    const host = `127.0.0.1:${t.port}`;
    const status = await rawStatus(
      `${method} /a/top.txt HTTP/1.1\r\nHost: ${host}\r\nDestination: http://${host}/one.txt\r\nDestination: http://${host}/two.txt\r\nConnection: close\r\n\r\n`,
    );
    expect(status).toBe(400);
    expect(await walk(t.root)).toEqual(before);
  });
});
