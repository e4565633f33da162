/**
 * Running the litmus WebDAV suite (Debian package `litmus`) and reading its output, for every test
 * that holds keepdav to it: directly, signed in, behind nginx, behind a load balancer.
 *
 * Usage:
 *   const summary = summarizeLitmus(await runLitmus(url));           // or runLitmus(url, [user, password])
 *   expect(summary.suiteNames).toEqual(['basic', 'copymove', 'props', 'locks', 'http']);
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LitmusSuite {
  suite: string;
  run: number;
  passed: number;
  failed: number;
}

export interface LitmusSummary {
  suites: LitmusSuite[];
  suiteNames: string[];
  passed: number;
  failed: number;
  /** Output lines naming a warning or a failure. */
  warnings: string[];
  failures: string[];
  /** Skipped tests as `name: why`. */
  skipped: string[];
}

/**
 * Runs litmus against `url` and resolves with everything it printed. `credentials`: user and
 * password, which litmus sends with Basic when challenged. It runs in a temporary directory (it
 * writes debug.log and child.log there, never into the repository), removed afterwards; it is
 * killed after 240 s.
 */
export function runLitmus(url: string, credentials: [string, string] | [] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const cwd = mkdtempSync(join(tmpdir(), 'keepdav-litmus-'));
    const child = spawn('litmus', [url, ...credentials], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      resolve(output);
    });
  });
}

export function summarizeLitmus(output: string): LitmusSummary {
  const suites = [...output.matchAll(/<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g)].map((m) => ({
    suite: m[1],
    run: Number(m[2]),
    passed: Number(m[3]),
    failed: Number(m[4]),
  }));
  const lines = output.split('\n');
  return {
    suites,
    suiteNames: suites.map((s) => s.suite),
    passed: suites.reduce((n, s) => n + s.passed, 0),
    failed: suites.reduce((n, s) => n + s.failed, 0),
    warnings: lines.filter((l) => /WARNING/.test(l)),
    failures: lines.filter((l) => /\bFAIL\b/.test(l)),
    skipped: lines.filter((l) => /SKIPPED/.test(l)).map((l) => /(\w+)\.+ SKIPPED \(([^)]*)\)/.exec(l)?.slice(1, 3).join(': ') ?? l),
  };
}
