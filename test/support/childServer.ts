/**
 * keepdav as a real child process (`node bin/keepdav.js serve ...`), for tests that kill it
 * (SIGKILL) and start it again over the same root and state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { send, type RequestOptions, type TestResponse } from './testServer';
import { KEEPDAV_BIN, KEEPDAV_NODE_FLAGS } from './keepdavBin';

const REPO = join(__dirname, '..', '..');
const BIN = KEEPDAV_BIN;

export interface ChildServer {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** SIGKILL, and wait for the process to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
}

export function startChildServer(root: string, state: string, extraArgs: string[] = [], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, 'serve', '--root', root, '--state', state, '--port', '0', '--host', '127.0.0.1', ...extraArgs], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let settled = false;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`keepdav did not print a listening line within ${timeoutMs} ms; stdout ${out} stderr ${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`keepdav exited (${code ?? signal}) before listening; stdout ${out} stderr ${err}`));
    });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /listening on (http:\/\/[^\s]+?:(\d+)\/)/.exec(out);
      if (!m || settled) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(m[2]);
      const agent = new Agent({ keepAlive: false });
      resolve({
        child,
        port,
        url: m[1],
        stderr: () => err,
        request: (method, path, options) => send(port, agent, method, path, options),
        async kill9() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}
