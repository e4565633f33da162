/**
 * writeAtomic fed by a real http.IncomingMessage: a client that disconnects mid-upload leaves the
 * old bytes; a refused body (too long) leaves the socket alive so an answer still reaches the client.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FileStore } from '../../../src/storage/fileStore';
import { IncompleteBodyError } from '../../../src/storage/storageErrors';
import { freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let store: FileStore;
let server: Server;
let port: number;
let outcomes: Array<Promise<unknown>>;

beforeAll(async () => {
  dir = freshDir('incoming');
  store = await FileStore.open(dir, UNUSED_KEPT_DIR);
  outcomes = [];
  server = createServer((req: IncomingMessage, res) => {
    const expectedLength = Number(req.headers['x-expected-length'] ?? req.headers['content-length']);
    const outcome = store.writeAtomic(req.url!, req, { expectedLength });
    outcomes.push(outcome.catch((err: unknown) => err));
    outcome.then(
      ({ created }) => res.writeHead(created ? 201 : 204).end(),
      (err: Error) => res.writeHead(400, { Connection: 'close' }).end(err.name),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeDir(dir);
});

function put(path: string, headers: Record<string, string | number>, send: (req: ReturnType<typeof request>) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'PUT', path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    send(req);
  });
}

test('a complete upload replaces the file', async () => {
  writeFileSync(join(dir, 'f1'), 'old');
  const answer = await put('/f1', { 'Content-Length': 3 }, (req) => req.end('new'));
  expect(answer.status).toBe(204);
  expect(readFileSync(join(dir, 'f1'), 'utf8')).toBe('new');
});

test('a client disconnecting mid-upload leaves the old bytes and no temp file', async () => {
  writeFileSync(join(dir, 'f2'), 'old bytes');
  outcomes.length = 0;
  await new Promise<void>((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'PUT', path: '/f2', headers: { 'Content-Length': 1_000_000 } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(200_000, 1), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
  });
  while (outcomes.length === 0) await new Promise((r) => setTimeout(r, 10));
  expect(await outcomes[0]).toBeInstanceOf(IncompleteBodyError);
  expect(readFileSync(join(dir, 'f2'), 'utf8')).toBe('old bytes');
  expect(readdirSync(dir).filter((n) => n.startsWith('.keepdav-'))).toEqual([]);
});

test('a body longer than expected is refused and the answer still arrives', async () => {
  writeFileSync(join(dir, 'f3'), 'old');
  const big = Buffer.alloc(4 * 1024 * 1024, 2);
  const answer = await put('/f3', { 'Content-Length': big.length, 'X-Expected-Length': 10 }, (req) => req.end(big));
  expect(answer).toEqual({ status: 400, body: 'IncompleteBodyError' });
  expect(readFileSync(join(dir, 'f3'), 'utf8')).toBe('old');
});
