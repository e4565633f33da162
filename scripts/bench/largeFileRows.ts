/**
 * The large-file rows. Each round PUTs one file of `options.largeFileBytes` (512 MiB, 64 with
 * --quick) streamed from a generator with Content-Length, or GETs it back drained and
 * spot-checked. A single transfer of this size varies by +-30% on a small VM, so each row runs
 * LARGE_ROUNDS rounds and reports the median MiB/s (every round is shown in `rounds`). Dirty
 * pages are flushed (`sync`) before each PUT so no round pays for an earlier one's writeback.
 * The PUT row also records the server's resident memory (baseline and peak) over its rounds.
 *
 * Usage: `await putLargeFileRow.run(ctx); await getLargeFileRow.run(ctx);`
 *   put-large  PUT large-1.bin .. large-N.bin, each new: expects 201
 *   get-large  GET large-1.bin N times: expects 200, exactly largeFileBytes bytes, pattern intact
 */
import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import { failureReason, sendRequest, type HttpResult } from './httpClient';
import { largeFileName } from './fixtures';
import { largeFileChunks, PatternChecker } from './largeFilePattern';
import { startRssWatch, type RssReport } from './memory';
import type { RowContext, RowDefinition, RowResult } from './rowTypes';

export const LARGE_ROUNDS = 3;
const MIB = 1024 * 1024;
/** A stalled transfer fails after this long without any byte moving. */
const IDLE_TIMEOUT_MS = 60_000;

interface Round {
  /** Sends the request; resolves to a failure reason, or null when the answer was right. */
  transfer(agent: http.Agent): Promise<string | null>;
}

function flushDirtyPages(): void {
  spawnSync('sync', { stdio: 'ignore', timeout: 60_000 });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function runRounds(
  row: RowDefinition,
  ctx: RowContext,
  makeRound: (round: number) => Round,
  options: { beforeEach?: () => void; memory?: () => RssReport },
): Promise<RowResult> {
  const mib = ctx.options.largeFileBytes / MIB;
  const rates: number[] = [];
  const errorReasons: Record<string, number> = {};
  let elapsedMs = 0;
  for (let round = 1; round <= LARGE_ROUNDS; round++) {
    options.beforeEach?.();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const started = performance.now();
    let failure: string | null;
    try {
      failure = await makeRound(round).transfer(agent);
    } catch (error) {
      failure = failureReason(error);
    } finally {
      agent.destroy();
    }
    const roundMs = performance.now() - started;
    elapsedMs += roundMs;
    if (failure === null) rates.push(mib / (roundMs / 1000));
    else errorReasons[failure] = (errorReasons[failure] ?? 0) + 1;
  }
  return {
    row: row.name,
    label: row.label,
    unit: row.unit,
    value: median(rates),
    ok: rates.length,
    errors: LARGE_ROUNDS - rates.length,
    errorReasons,
    elapsedMs,
    p50Ms: null,
    p99Ms: null,
    rounds: rates,
    memory: options.memory?.(),
  };
}

function checkStatus(method: string, expected: number, res: HttpResult): string | null {
  return res.status === expected ? null : `${method} ${res.status}`;
}

export const putLargeFileRow: RowDefinition = {
  name: 'put-large',
  label: 'PUT one large file (median of 3)',
  unit: 'MiB/s',
  async run(ctx) {
    const size = ctx.options.largeFileBytes;
    flushDirtyPages();
    const watch = startRssWatch(ctx.pid, { processGroup: ctx.processGroup });
    return runRounds(
      putLargeFileRow,
      ctx,
      (round) => ({
        async transfer(agent) {
          const res = await sendRequest({
            agent,
            method: 'PUT',
            url: new URL(largeFileName(round), ctx.baseUrl),
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
            body: largeFileChunks(size),
            idleTimeoutMs: IDLE_TIMEOUT_MS,
          });
          return checkStatus('PUT', 201, res);
        },
      }),
      { beforeEach: flushDirtyPages, memory: () => watch.stop() },
    );
  },
};

export const getLargeFileRow: RowDefinition = {
  name: 'get-large',
  label: 'GET one large file (median of 3)',
  unit: 'MiB/s',
  async run(ctx) {
    const size = ctx.options.largeFileBytes;
    return runRounds(
      getLargeFileRow,
      ctx,
      () => ({
        async transfer(agent) {
          const pattern = new PatternChecker();
          const res = await sendRequest({
            agent,
            method: 'GET',
            url: new URL(largeFileName(1), ctx.baseUrl),
            onChunk: (chunk) => pattern.feed(chunk),
            idleTimeoutMs: IDLE_TIMEOUT_MS,
          });
          if (res.status !== 200) return `GET ${res.status}`;
          if (res.bytes !== size) return `GET body ${res.bytes} of ${size} bytes`;
          return pattern.mismatches === 0 ? null : 'GET content differs';
        },
      }),
      {},
    );
  },
};
