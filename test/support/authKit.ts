/**
 * For the users-and-permissions tests: htpasswd files made by the real `htpasswd` (Debian
 * `apache2-utils`) or by bcryptjs, Basic credentials, and a real keepdav on port 0 with an
 * injected clock whose log lines are kept (to prove no password or hash reaches them).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import bcrypt from 'bcryptjs';
import { resolveConfig, type ConfigInput } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { TestClock } from './testClock';
import { parseXmlDocument } from '../../src/xml/parse';
import type { RequestOptions, TestResponse, TestServer } from './testServer';
import { programAvailable } from './realClientKit';

export const htpasswdAvailable = programAvailable('htpasswd');

export type HashMaker = 'htpasswd -B' | 'htpasswd -m' | 'htpasswd -s' | 'bcryptjs';

/** One `name:hash` line for `password`, made by the real htpasswd (batch mode, -n prints it) or bcryptjs. */
export function htpasswdLine(name: string, password: string, maker: HashMaker = htpasswdAvailable ? 'htpasswd -B' : 'bcryptjs'): string {
  if (maker === 'bcryptjs') return `${name}:${bcrypt.hashSync(password, 5)}`;
  const flag = maker.split(' ')[1];
  const r = spawnSync('htpasswd', ['-n', '-b', flag, name, password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64') };
}


export interface AuthServer extends TestServer {
  usersFile: string;
  logs: string[];
  /** A request from another loopback address (127.0.0.2), to tell clients apart. */
  requestFrom(localAddress: string, method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

/** A keepdav over a fresh root whose users file holds `lines`; `overrides` go into resolveConfig. */
export async function startAuthServer(lines: string[], overrides: Partial<ConfigInput> = {}): Promise<AuthServer> {
  const base = await mkdtemp(join(tmpdir(), 'keepdav-auth-'));
  const root = join(base, 'root');
  const stateDir = join(base, 'state');
  const usersFile = join(base, 'htpasswd');
  await mkdir(root);
  await writeFile(usersFile, lines.join('\n') + '\n');
  const clock = new TestClock(1_700_000_000_000);
  const logs: string[] = [];
  const boot = (o: Partial<ConfigInput>) =>
    startServer(resolveConfig({ root, stateDir, port: 0, usersFile, ...overrides, ...o }), (l: string) => logs.push(l), { clock: clock.now });
  let server: RunningServer = await boot({});
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    get server() {
      return server;
    },
    root,
    stateDir,
    usersFile,
    clock,
    logs,
    request: (method, path, options = {}) => sendFrom(server.port, agent, undefined, method, path, options),
    requestFrom: (localAddress, method, path, options = {}) => sendFrom(server.port, undefined, localAddress, method, path, options),
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
}

function sendFrom(port: number, agent: Agent | undefined, localAddress: string | undefined, method: string, path: string, options: RequestOptions): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = Buffer.byteLength(options.body);
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), xml: () => parseXmlDocument(body) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The keepdav error code in an XML error body (k:code), or undefined. */
export function errorCode(res: TestResponse): string | undefined {
  return /<k:code>([^<]*)<\/k:code>/.exec(res.text)?.[1];
}
