/**
 * A real keepdav server on a free port over a fresh temporary root, for HTTP tests, and a small
 * request helper that sends exactly the method, headers and body a test gives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import { resolveConfig, type ConfigInput } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { silentLogger } from '../../src/logging/logger';
import { parseXmlDocument } from '../../src/xml/parse';
import type { XmlElement } from '../../src/xml/tree';
import { TestClock } from './testClock';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** The body parsed namespace-aware (throws when it is not XML). */
  xml(): XmlElement;
}

export interface RequestOptions {
  headers?: Record<string, string | number>;
  body?: string | Buffer;
}

export interface TestServer {
  url: string;
  port: number;
  root: string;
  stateDir: string;
  server: RunningServer;
  /** The server's clock (real time unless advanced): advance it to expire locks or windows instead of sleeping. */
  clock: TestClock;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Stops the server; the state stays for a restart. */
  stop(): Promise<void>;
  /** Starts a new server over the same root and state. */
  restart(overrides?: Partial<ConfigInput>): Promise<void>;
  /** Stops the server and removes the temporary directories. */
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ConfigInput> = {}): Promise<TestServer> {
  const base = await mkdtemp(join(tmpdir(), 'keepdav-test-'));
  const root = join(base, 'root');
  const stateDir = join(base, 'state');
  await (await import('node:fs/promises')).mkdir(root);
  const clock = TestClock.realTime();
  const boot = (o: Partial<ConfigInput>) => startServer(resolveConfig({ root, stateDir, port: 0, ...overrides, ...o }), silentLogger(), { clock: clock.now });
  let server = await boot({});
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const t: TestServer = {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    root,
    stateDir,
    get server() {
      return server;
    },
    clock,
    request: (method, path, options = {}) => send(server.port, agent, method, path, options),
    stop: () => server.close(1000),
    async restart(o = {}) {
      await server.close(1000);
      server = await boot(o);
    },
    async close() {
      agent.destroy();
      await server.close(1000);
      await rm(base, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * One request and its whole answer. A kept-alive socket that the server closed for idleness
 * (keepAliveTimeout) just as this request was written on it fails with ECONNRESET before the server
 * read anything; the request is then sent once more on a fresh socket, as Node.js's documentation
 * advises (`request.reusedSocket`). Any other failure is the caller's.
 */
export async function send(port: number, agent: Agent | undefined, method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
  try {
    return await sendOnce(port, agent, method, path, options);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket !== true || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    return sendOnce(port, agent, method, path, options);
  }
}

function sendOnce(port: number, agent: Agent | undefined, method: string, path: string, options: RequestOptions): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined && headers['Content-Length'] === undefined && headers['Transfer-Encoding'] === undefined) {
      headers['Content-Length'] = Buffer.byteLength(options.body);
    }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, xml: () => parseXmlDocument(body) });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(options.body);
  });
}
