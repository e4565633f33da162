/**
 * Runs wrk (Debian package `wrk`) and reads its summary.
 *
 * Usage:
 *   const result = await runWrk({ url, threads: 2, connections: 64, seconds: 5 });
 *   result.requestsPerSecond, result.non2xx, result.socketErrors, result.extra.pairs
 *
 * `script` is a file under scripts/bench/lua, `scriptArgs` reach its init(args); a script's
 * `BENCH key=value ...` output lines end up in `extra`.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export interface WrkSpec {
  url: URL;
  threads: number;
  connections: number;
  seconds: number;
  script?: string;
  scriptArgs?: string[];
  headers?: Record<string, string>;
  timeoutSeconds?: number;
}

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  non2xx: number;
  socketErrors: number;
  /** Latency percentiles are not parsed; wrk's mean latency in ms. */
  meanLatencyMs: number | null;
  extra: Record<string, number>;
  output: string;
}

const LUA_DIR = path.join(__dirname, 'lua');

export function wrkMissing(): string | null {
  try {
    require('node:child_process').execFileSync('wrk', ['-v'], { stdio: 'ignore' });
    return null;
  } catch (error) {
    // `wrk -v` exits 1 after printing its version; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'wrk is not installed (Debian: apt-get install wrk)' : null;
  }
}

function unitMs(value: number, unit: string): number {
  return unit === 'us' ? value / 1000 : unit === 's' ? value * 1000 : unit === 'm' ? value * 60_000 : value;
}

export function parseWrkOutput(output: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(output);
  if (!total) throw new Error(`wrk printed no summary:\n${output.slice(-500)}`);
  const durationSeconds = unitMs(Number(total[2]), total[3]) / 1000;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const latency = /Latency\s+([\d.]+)(us|ms|s|m)/.exec(output);
  const extra: Record<string, number> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('BENCH ')) continue;
    for (const pair of line.slice(6).trim().split(/\s+/)) {
      const [key, value] = pair.split('=');
      if (key && value !== undefined) extra[key] = Number(value);
    }
  }
  const requests = Number(total[1]);
  return {
    requests,
    durationSeconds,
    requestsPerSecond: requests / durationSeconds,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    meanLatencyMs: latency ? unitMs(Number(latency[1]), latency[2]) : null,
    extra,
    output,
  };
}

export function runWrk(spec: WrkSpec): Promise<WrkResult> {
  const args = [
    `-t${spec.threads}`,
    `-c${spec.connections}`,
    `-d${spec.seconds}s`,
    `--timeout`,
    `${spec.timeoutSeconds ?? 10}s`,
  ];
  for (const [name, value] of Object.entries(spec.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (spec.script) args.push('-s', path.join(LUA_DIR, spec.script));
  args.push(spec.url.href);
  if (spec.scriptArgs?.length) args.push('--', ...spec.scriptArgs);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { maxBuffer: 16 * 1024 * 1024, timeout: (spec.seconds + 60) * 1000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`wrk failed: ${error.message}\n${stderr}`));
        return;
      }
      try {
        resolve(parseWrkOutput(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}
