/**
 * Large downloads by sendfile (src/http/zeroCopySend.ts, native/zeroCopySend.c) over a real
 * server: every byte exact, ranges too; files below the threshold and TLS (test/e2e/https.test.ts)
 * take the buffers; keep-alive and pipelined answers around one stay whole; no more than
 * MAX_ZERO_COPY_TRANSFERS run at once; a client that leaves, or stops reading past the idle
 * timeout, ends its transfer and leaves no file open; a file cut short while it is sent gives a cut
 * answer, never a short one; the access log counts the bytes. Outside CI a missing build is said
 * loudly and skipped; in CI it must be there (npm ci builds it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { lineLogger } from '../../src/logging/logger';
import { MAX_ZERO_COPY_TRANSFERS, ZERO_COPY_MIN_BYTES, ZERO_COPY_SEND_BINARY, zeroCopySendForTests } from '../../src/http/zeroCopySend';
import { itWhenInstalled } from '../support/realClientKit';
import { openDescriptorsOn } from '../support/openDescriptors';

const itWhenBuilt = itWhenInstalled('the native sendfile helper (build/Release/zero_copy_send.node)', existsSync(ZERO_COPY_SEND_BINARY), 'npm install builds it: needs python3, make and a C compiler');

const MiB = 1024 * 1024;
const big = randomBytes(8 * MiB + 3);
const small = randomBytes(ZERO_COPY_MIN_BYTES - 1);
/** Large enough that a client that reads nothing stalls the transfer (socket buffers hold a few MiB). */
const huge = randomBytes(48 * MiB);

interface Served {
  server: RunningServer;
  base: string;
  root: string;
  lines: Array<Record<string, unknown>>;
}

async function serve(idleTimeoutMs?: number): Promise<Served> {
  const base = await mkdtemp(join(tmpdir(), 'keepdav-zerocopy-'));
  const root = join(base, 'root');
  await mkdir(root);
  await writeFile(join(root, 'big.bin'), big);
  await writeFile(join(root, 'small.bin'), small);
  await writeFile(join(root, 'huge.bin'), huge);
  const lines: Array<Record<string, unknown>> = [];
  const logger = lineLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const server = await startServer(resolveConfig({ root, stateDir: join(base, 'state'), port: 0, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) }), logger);
  return { server, base, root, lines };
}

let s: Served;
beforeAll(async () => {
  s = await serve();
});
afterAll(async () => {
  await s.server.close(1000);
  await rm(s.base, { recursive: true, force: true });
});

interface Got {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  reused: boolean;
}

function get(port: number, path: string, headers: Record<string, string> = {}, agent: Agent | false = false): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A raw connection that asked for `path` and has received the start of the answer, then reads
 * nothing more; readToEnd() reads on until the connection closes and gives the bytes received in all.
 */
async function stalledDownload(port: number, path: string): Promise<{ socket: Socket; readToEnd: () => Promise<number> }> {
  const socket = connect(port, '127.0.0.1');
  let received = 0;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (c: Buffer) => {
    received += c.length;
    socket.pause();
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await until(() => received > 0, 'the answer to start');
  const readToEnd = async (): Promise<number> => {
    socket.removeAllListeners('data');
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.resume();
    await closed;
    return received;
  };
  return { socket, readToEnd };
}

describe('large downloads by sendfile', () => {
  itWhenBuilt('sends a large file by sendfile, every byte exactly, and the access log counts the bytes', async () => {
    const before = zeroCopySendForTests.started();
    const got = await get(s.server.port, '/big.bin', { 'X-Request-Id': 'zero-copy-whole' });
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(big.length));
    expect(got.body.equals(big)).toBe(true);
    expect(zeroCopySendForTests.started()).toBe(before + 1);
    await until(() => s.lines.some((l) => l.reqId === 'zero-copy-whole'), 'the access line');
    const line = s.lines.find((l) => l.reqId === 'zero-copy-whole')!;
    expect(line).toMatchObject({ status: 200, path: '/big.bin' });
    expect(line.bytesOut as number).toBeGreaterThan(big.length);
    expect(line.bytesOut as number).toBeLessThan(big.length + 1024);
    await until(() => zeroCopySendForTests.running() === 0, 'the transfer to end');
  });

  itWhenBuilt('sends a range (206) by sendfile too; a file below the threshold takes the buffers', async () => {
    const before = zeroCopySendForTests.started();
    const part = await get(s.server.port, '/big.bin', { Range: `bytes=1000-${2 * MiB + 999}` });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-${2 * MiB + 999}/${big.length}`);
    expect(part.body.equals(big.subarray(1000, 2 * MiB + 1000))).toBe(true);
    expect(zeroCopySendForTests.started()).toBe(before + 1);
    const whole = await get(s.server.port, '/small.bin');
    expect(whole.body.equals(small)).toBe(true);
    expect(zeroCopySendForTests.started()).toBe(before + 1);
  });

  itWhenBuilt('answers before and after a sendfile download on one kept-alive connection are whole', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = [];
      for (const [path, headers] of [['/small.bin', {}], ['/big.bin', {}], ['/small.bin', {}], ['/big.bin', { Range: 'bytes=-1500000' }], ['/big.bin', {}]] as const) {
        answers.push(await get(s.server.port, path, headers, agent));
      }
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 206, 200]);
      expect(answers.slice(1).every((a) => a.reused)).toBe(true);
      expect(answers[0].body.equals(small) && answers[2].body.equals(small)).toBe(true);
      expect(answers[1].body.equals(big) && answers[4].body.equals(big)).toBe(true);
      expect(answers[3].body.equals(big.subarray(big.length - 1500000))).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  itWhenBuilt('pipelined requests: each answer follows the one before it whole', async () => {
    const socket = connect(s.server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /small.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    let rest = Buffer.concat(chunks);
    for (const expected of [big, small, big]) {
      const end = rest.indexOf('\r\n\r\n');
      const head = rest.subarray(0, end).toString('latin1');
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)![1]);
      expect(rest.subarray(end + 4, end + 4 + length).equals(expected)).toBe(true);
      rest = rest.subarray(end + 4 + length);
    }
    expect(rest.length).toBe(0);
  });

  itWhenBuilt(`runs at most ${MAX_ZERO_COPY_TRANSFERS} transfers at once; the downloads beyond take the buffers, and all are whole`, async () => {
    const stalled = await Promise.all(Array.from({ length: MAX_ZERO_COPY_TRANSFERS }, () => stalledDownload(s.server.port, '/huge.bin')));
    await until(() => zeroCopySendForTests.running() === MAX_ZERO_COPY_TRANSFERS, 'the stalled transfers');
    const before = zeroCopySendForTests.started();
    const meanwhile = await Promise.all([get(s.server.port, '/big.bin'), get(s.server.port, '/big.bin')]);
    expect(meanwhile.every((g) => g.status === 200 && g.body.equals(big))).toBe(true);
    expect(zeroCopySendForTests.started()).toBe(before);
    expect(zeroCopySendForTests.running()).toBe(MAX_ZERO_COPY_TRANSFERS);
    for (const d of stalled) d.socket.destroy();
    await until(() => zeroCopySendForTests.running() === 0, 'the transfers to end');
  });

  itWhenBuilt('a client that leaves midway ends its transfer, leaves no file open, and the next download is whole', async () => {
    const download = await stalledDownload(s.server.port, '/huge.bin');
    await until(() => zeroCopySendForTests.running() === 1, 'the transfer');
    download.socket.destroy();
    await until(() => zeroCopySendForTests.running() === 0, 'the transfer to end');
    await until(() => openDescriptorsOn(join(s.root, 'huge.bin')) === 0, 'the file to be closed');
    const again = await get(s.server.port, '/huge.bin');
    expect(again.body.equals(huge)).toBe(true);
  });

  itWhenBuilt('a file cut short while it is sent ends in a cut answer, never a short one that looks whole', async () => {
    await writeFile(join(s.root, 'shrinking.bin'), huge);
    const download = await stalledDownload(s.server.port, '/shrinking.bin');
    await until(() => zeroCopySendForTests.running() === 1, 'the transfer');
    await truncate(join(s.root, 'shrinking.bin'), MiB);
    expect(await download.readToEnd()).toBeLessThan(huge.length);
    await until(() => zeroCopySendForTests.running() === 0, 'the transfer to end');
    await until(() => s.lines.some((l) => l.msg === 'response stream failed'), 'the warning');
    expect((await get(s.server.port, '/big.bin')).body.equals(big)).toBe(true);
  });
});

describe('a client that stops reading', () => {
  let short: Served;
  beforeAll(async () => {
    short = await serve(1500);
  });
  afterAll(async () => {
    await short.server.close(1000);
    await rm(short.base, { recursive: true, force: true });
  });

  itWhenBuilt('is cut off once the idle timeout passes with nothing taken, as without sendfile', async () => {
    const started = Date.now();
    const download = await stalledDownload(short.server.port, '/huge.bin');
    await until(() => zeroCopySendForTests.running() === 1, 'the transfer');
    await until(() => zeroCopySendForTests.running() === 0, 'the transfer to give up');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await until(() => openDescriptorsOn(join(short.root, 'huge.bin')) === 0, 'the file to be closed');
    // What the kernel buffered still arrives, then the end: a cut answer.
    expect(await download.readToEnd()).toBeLessThan(huge.length);
    expect((await get(short.server.port, '/big.bin')).body.equals(big)).toBe(true);
  });
});
