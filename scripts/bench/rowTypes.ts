/**
 * Shapes shared by the benchmark rows, the runner and the report.
 *
 * Usage: a row is `{ name, label, unit, run(ctx) }`; `run` measures one server once (one round)
 * and returns a Measurement whose `value` counts successful operations only, every failure
 * tallied in `errors`. The runner samples the server's RSS around `run`.
 */
import type { LargeSource } from './fixtures';
import type { BenchOptions, RowName, ServerName } from './options';

/** req/s and pairs/s: higher is better; s (seconds for one request or transfer) and ms/pair: lower is better. */
export type Unit = 'req/s' | 'pairs/s' | 's' | 'ms/pair';

export interface RowContext {
  server: ServerName;
  /** The server's base URL, ending in `/`. */
  baseUrl: URL;
  /** The served directory on disk (the large PUT row removes what it wrote). */
  root: string;
  options: BenchOptions;
  /** CPU seconds the server has used so far (the runner's /proc reading), for rows that time a part of their run. */
  serverCpuSeconds: () => number | null;
  /** 1-based round number: names written in a round are unique to it. */
  round: number;
  large: LargeSource;
}

export interface Measurement {
  value: number | null;
  /** Failed operations (non-2xx answers, socket errors, failed LOCK+UNLOCK pairs). */
  errors: number;
  /** Operations attempted, when known (to give errors as a share). */
  attempts?: number;
  /** Successful operations, when known (the runner divides the server's CPU time by them). */
  operations?: number;
  /** Server CPU time per successful operation (ms), set by the runner: robust to a busy machine. */
  cpuMsPerOp?: number;
  /** Why it could not run or what went wrong, shortly. */
  note?: string;
}

export interface RowDefinition {
  name: RowName;
  label: string;
  unit: Unit;
  /** Servers the row means something for (default: all). */
  appliesTo?: (server: ServerName) => boolean;
  run(ctx: RowContext): Promise<Measurement>;
}

export function lowerIsBetter(row: RowDefinition): boolean {
  return row.unit === 's' || row.unit === 'ms/pair';
}
