/**
 * Pipelined requests (RFC 9112 §9.3.2): requests sent on one connection without waiting are
 * handled in turn, each seeing what the ones before it did, and answered in order.
 */
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

/** Sends `requests` in one write and returns each answer's status line and body, in order. */
async function pipeline(requests: string[]): Promise<Array<{ status: number; body: string }>> {
  const socket = connect(t.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(requests.map((r, i) => r.replace('\r\n', `\r\nHost: 127.0.0.1:${t.port}\r\n${i === requests.length - 1 ? 'Connection: close\r\n' : ''}`)).join(''));
  await closed;
  const answers: Array<{ status: number; body: string }> = [];
  let text = Buffer.concat(chunks).toString('latin1');
  while (text.startsWith('HTTP/1.1 ')) {
    const headEnd = text.indexOf('\r\n\r\n');
    const head = text.slice(0, headEnd);
    text = text.slice(headEnd + 4);
    let body = '';
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const lineEnd = text.indexOf('\r\n');
        const size = parseInt(text.slice(0, lineEnd), 16);
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        text = text.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? '0');
      body = text.slice(0, length);
      text = text.slice(length);
    }
    answers.push({ status: Number(head.slice(9, 12)), body });
  }
  return answers;
}

test('a GET after a PUT sees the new file; a GET after a DELETE sees it gone', async () => {
  const answers = await pipeline([
    'PUT /p.txt HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
    'GET /p.txt HTTP/1.1\r\n\r\n',
    'DELETE /p.txt HTTP/1.1\r\n\r\n',
    'GET /p.txt HTTP/1.1\r\n\r\n',
  ]);
  expect(answers.map((a) => a.status)).toEqual([201, 200, 204, 404]);
  expect(answers[1].body).toBe('hello');
});

test('a PUT into a folder its pipelined MKCOL makes lands there, and the PROPFIND after them lists it', async () => {
  const answers = await pipeline([
    'MKCOL /c HTTP/1.1\r\n\r\n',
    'PUT /c/f.txt HTTP/1.1\r\nContent-Length: 1\r\n\r\nx',
    'PROPFIND /c/ HTTP/1.1\r\nDepth: 1\r\n\r\n',
  ]);
  expect(answers.map((a) => a.status)).toEqual([201, 201, 207]);
  expect(answers[2].body).toContain('/c/f.txt');
  expect(await readFile(join(t.root, 'c', 'f.txt'), 'utf8')).toBe('x');
});

test('many reads pipelined come back whole and in order', async () => {
  await t.request('PUT', '/r.txt', { body: 'read me' });
  const answers = await pipeline(Array.from({ length: 20 }, () => 'GET /r.txt HTTP/1.1\r\n\r\n'));
  expect(answers).toEqual(Array.from({ length: 20 }, () => ({ status: 200, body: 'read me' })));
});
