/**
 * Drives the command-line WebDAV client cadaver (Debian package `cadaver`) one command at a time
 * through its standard input: each command is written after the `dav:/...> ` prompt appears, and
 * its output is what cadaver prints until the next prompt. One session keeps cadaver's state (the
 * current collection, the lock tokens it holds) across commands, as an interactive user would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const PROMPT = /dav:[^\n]*> $/;

export class CadaverSession {
  private output = '';
  private exited = false;
  private waiter: (() => void) | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      this.waiter?.();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', () => {
      this.exited = true;
      this.waiter?.();
    });
    child.stdin.on('error', () => undefined);
  }

  /** Starts `cadaver url` with HOME set to `home` (no ~/.netrc, no ~/.cadaverrc) and waits for the first prompt. */
  static async open(url: string, options: { home: string; cwd: string; timeoutMs?: number }): Promise<{ session: CadaverSession; banner: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: options.home, LC_ALL: 'C.UTF-8', TERM: 'dumb' };
    for (const k of Object.keys(env)) if (/^(http|https|all|no)_proxy$/i.test(k)) delete env[k];
    const child = spawn('cadaver', [url], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new CadaverSession(child);
    const banner = await session.untilPrompt(0, options.timeoutMs ?? 15_000);
    return { session, banner };
  }

  /** Sends one command line and returns what cadaver printed for it (without the echo and the next prompt). */
  async command(line: string, timeoutMs = 30_000): Promise<string> {
    if (this.exited) throw new Error(`cadaver has exited; output so far:\n${this.output}`);
    const start = this.output.length;
    this.child.stdin.write(`${line}\n`);
    const text = await this.untilPrompt(start, timeoutMs);
    // cadaver (readline) echoes the command line first.
    return text.startsWith(line) ? text.slice(line.length).replace(/^\n/, '') : text;
  }

  /** Sends `quit` and waits for cadaver to exit; returns everything it printed in the session. */
  async quit(timeoutMs = 10_000): Promise<string> {
    if (!this.exited) {
      this.child.stdin.write('quit\n');
      this.child.stdin.end();
      const deadline = Date.now() + timeoutMs;
      while (!this.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (!this.exited) this.child.kill('SIGKILL');
    }
    return this.output;
  }

  /** Kills cadaver if it still runs (for afterAll after a failure). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private untilPrompt(start: number, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`cadaver gave no prompt within ${timeoutMs} ms; it printed:\n${this.output.slice(start)}`));
      }, timeoutMs);
      const check = () => {
        const text = this.output.slice(start);
        if (PROMPT.test(text) || this.exited) {
          clearTimeout(timer);
          this.waiter = undefined;
          if (!PROMPT.test(text)) reject(new Error(`cadaver exited; it printed:\n${text}`));
          else resolve(text.replace(PROMPT, '').replace(/\s+$/, ''));
        }
      };
      this.waiter = check;
      check();
    });
  }
}
