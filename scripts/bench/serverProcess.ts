/**
 * One benchmarked server as a child process: start it, wait for its `listening <url>` line,
 * watch whether it dies, count the uncaught exceptions it logs, stop it.
 *
 * Usage:
 *   const server = await ServerProcess.start(command, { verbose: false });
 *   fetch against server.url ...; if (server.exitInfo) { it died }
 *   await server.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup';
import type { ServerCommand } from './serverCommands';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  verbose: boolean;
  readyTimeoutMs?: number;
}

const TAIL_LINES = 40;
const URL_IN_LINE = /(https?:\/\/[^\s"'<>]+)/;
/** What the peer's crash guard (and a Node crash) writes. */
const UNCAUGHT_LINE = /uncaught ?exception|unhandled ?rejection/i;

export class ServerProcess {
  private exit: ExitInfo | null = null;
  private stopping = false;
  private readonly tail: string[] = [];
  private uncaught = 0;
  private readonly forgetCleanup: () => void;

  private constructor(
    readonly command: ServerCommand,
    private readonly child: ChildProcess,
    private readonly verbose: boolean,
  ) {
    this.forgetCleanup = onCleanup(() => {
      if (this.exit === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
    this.follow(child.stderr, 'stderr');
  }

  /** The base URL the server announced, set once ready. */
  url: URL = new URL('http://127.0.0.1/');

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** How it ended, or null while it runs. */
  get exitInfo(): ExitInfo | null {
    return this.exit;
  }

  /** Died on its own (not stopped by us). */
  get died(): boolean {
    return this.exit !== null && !this.stopping;
  }

  get uncaughtExceptions(): number {
    return this.uncaught;
  }

  outputTail(): string[] {
    return [...this.tail];
  }

  static async start(command: ServerCommand, options: StartOptions): Promise<ServerProcess> {
    const child = spawn(command.executable, command.args, {
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const server = new ServerProcess(command, child, options.verbose);
    try {
      server.url = await server.waitForListening(options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      await server.stop();
      const tail = server.outputTail().slice(-10).join('\n    ');
      throw new Error(`${(error as Error).message}${tail ? `\n    ${tail}` : ''}`);
    }
    return server;
  }

  private follow(stream: NodeJS.ReadableStream | null, name: string, onLine?: (line: string) => void): void {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => {
      this.tail.push(`[${name}] ${line}`);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      if (UNCAUGHT_LINE.test(line)) this.uncaught++;
      if (this.verbose) process.stderr.write(`    ${this.command.name} ${name}: ${line}\n`);
      onLine?.(line);
    });
  }

  private waitForListening(timeoutMs: number): Promise<URL> {
    return new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening <url>" line within ${timeoutMs} ms`)), timeoutMs);
      this.follow(this.child.stdout, 'stdout', (line) => {
        const match = /listening/i.test(line) ? URL_IN_LINE.exec(line) : null;
        if (!match) return;
        clearTimeout(timer);
        resolve(reachableUrl(match[1]));
      });
      this.child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${this.command.executable}: ${error.message}`));
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited before listening (code ${code}, signal ${signal})`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = this.stopping || this.exit === null;
    if (this.exit === null && this.child.pid !== undefined) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.forgetCleanup();
  }
}

/** A wildcard listen address is reached through loopback. */
function reachableUrl(announced: string): URL {
  const url = new URL(announced);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
