/**
 * A closed-loop load generator: `concurrency` workers each run one operation after another
 * until the time is up or `maxOps` operations have started. An operation says whether it
 * succeeded; thrown errors count as failures under their error code.
 *
 * Usage:
 *   const result = await runLoad({ concurrency: 64, durationMs: 5000, maxOps: 200_000,
 *     operation: async (worker) => (await sendRequest(...)).status === 200 ? OK : fail('status 500') });
 *   result.ok / (result.elapsedMs / 1000)  // successful operations per second
 */
import { failureReason } from './httpClient';

export type Outcome = { ok: true } | { ok: false; reason: string };

export const OK: Outcome = { ok: true };
export function fail(reason: string): Outcome {
  return { ok: false, reason };
}

export interface LoadSpec {
  concurrency: number;
  durationMs: number;
  maxOps: number;
  /** Checked before each operation: true ends the run early (the server died). */
  abortWhen?: () => boolean;
  /** One unit of work; `worker` is 0..concurrency-1, stable for the worker's lifetime. */
  operation: (worker: number) => Promise<Outcome>;
}

export interface LoadResult {
  ok: number;
  errors: number;
  /** Failure reason -> count. */
  errorReasons: Record<string, number>;
  /** From the first start to the last completion. */
  elapsedMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorReasons: Record<string, number> = {};
  let started = 0;
  let ok = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + spec.durationMs;

  const worker = async (index: number): Promise<void> => {
    while (started < spec.maxOps && performance.now() < deadline && !spec.abortWhen?.()) {
      started++;
      const begin = performance.now();
      let outcome: Outcome;
      try {
        outcome = await spec.operation(index);
      } catch (error) {
        outcome = fail(failureReason(error));
      }
      latencies.push(performance.now() - begin);
      if (outcome.ok) ok++;
      else {
        errors++;
        errorReasons[outcome.reason] = (errorReasons[outcome.reason] ?? 0) + 1;
      }
    }
  };

  await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => worker(i)));
  const elapsedMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    ok,
    errors,
    errorReasons,
    elapsedMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
