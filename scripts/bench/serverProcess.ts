/**
 * One benchmarked server as a child process: start it, wait for its `listening <url>` line (or,
 * with `command.readyUrl`, for an HTTP answer there), watch whether it dies, count the uncaught
 * exceptions it logs, stop it. A `command.processGroup` server (apache) gets its own process
 * group: SIGTERM goes to its parent, and the whole group is SIGKILLed after it exits or at cleanup.
 * A `command.logFile` is read at stop: its last lines join the output tail, its error lines
 * are kept for the report.
 *
 * Usage:
 *   const server = await ServerProcess.start(command, { verbose: false });
 *   fetch against server.url ...; if (server.exitInfo) { it died }
 *   await server.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
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
/** Apache error-log lines at level error or worse: `[module:error]`, `[:crit]`... */
const LOG_ERROR_LINE = /\[[\w.]*:(error|crit|alert|emerg)\]/;
const READY_POLL_MS = 50;

export class ServerProcess {
  private exit: ExitInfo | null = null;
  private stopping = false;
  private readonly tail: string[] = [];
  private uncaught = 0;
  private readonly forgetCleanup: () => void;
  private logErrors: string[] = [];
  private logRead = false;

  private constructor(
    readonly command: ServerCommand,
    private readonly child: ChildProcess,
    private readonly verbose: boolean,
  ) {
    this.forgetCleanup = onCleanup(() => {
      if (this.exit === null || command.processGroup) this.kill('SIGKILL', command.processGroup);
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

  /** Error lines of `command.logFile`, read at stop. */
  logErrorLines(): string[] {
    return [...this.logErrors];
  }

  /** Signals the child, or its whole process group; never throws. */
  private kill(signal: NodeJS.Signals, group = false): void {
    try {
      if (group && this.child.pid !== undefined) process.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  static async start(command: ServerCommand, options: StartOptions): Promise<ServerProcess> {
    const child = spawn(command.executable, command.args, {
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production', ...command.env },
      detached: command.processGroup === true,
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
    const readyUrl = this.command.readyUrl;
    return new Promise<URL>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | null, url?: URL): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(url!);
      };
      const timer = setTimeout(
        () => settle(new Error(readyUrl ? `no HTTP answer at ${readyUrl.href} within ${timeoutMs} ms` : `no "listening <url>" line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.follow(this.child.stdout, 'stdout', (line) => {
        const match = !readyUrl && /listening/i.test(line) ? URL_IN_LINE.exec(line) : null;
        if (match) settle(null, reachableUrl(match[1]));
      });
      if (readyUrl) {
        const poll = (): void => {
          if (settled) return;
          answersHttp(readyUrl).then((answered) => {
            if (answered) settle(null, reachableUrl(readyUrl.href));
            else setTimeout(poll, READY_POLL_MS);
          });
        };
        poll();
      }
      this.child.once('error', (error) => settle(new Error(`could not start ${this.command.executable}: ${error.message}`)));
      this.child.once('exit', (code, signal) => settle(new Error(`exited before listening (code ${code}, signal ${signal})`)));
    });
  }

  /** Reads the server's own log file (once it stopped) into the tail and the error lines. */
  private readLogFile(): void {
    const file = this.command.logFile;
    if (!file) return;
    let lines: string[];
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
    } catch {
      return;
    }
    this.logErrors = lines.filter((l) => LOG_ERROR_LINE.test(l));
    const name = file.split('/').pop() ?? 'log';
    for (const line of lines.slice(-TAIL_LINES)) {
      this.tail.push(`[${name}] ${line}`);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }

  /** SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = this.stopping || this.exit === null;
    const group = this.command.processGroup === true;
    if (this.exit === null && this.child.pid !== undefined) {
      const exited = once(this.child, 'exit');
      this.kill('SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL', group), graceMs);
      await exited;
      clearTimeout(timer);
    }
    // A forking server's children must not outlive it (they would keep the port and the files).
    if (group) this.kill('SIGKILL', true);
    this.forgetCleanup();
    if (!this.logRead) {
      this.logRead = true;
      this.readLogFile();
    }
  }
}

/** True when something answers HTTP at `url` (any status). */
function answersHttp(url: URL): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = http.request(url, { method: 'OPTIONS', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A wildcard listen address is reached through loopback. */
function reachableUrl(announced: string): URL {
  const url = new URL(announced);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
