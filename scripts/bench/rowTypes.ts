/**
 * Shapes shared by the benchmark rows, the runner and the report.
 *
 * Usage: a row is `{ name, label, unit, run(ctx) }`; `run` returns a RowResult whose `value`
 * counts successful operations only, with every failure tallied in `errors`/`errorReasons`.
 */
import type { BenchOptions, RowName } from './options';
import type { RssReport } from './memory';

export type Unit = 'req/s' | 'pairs/s' | 'MiB/s';

export interface RowContext {
  /** The server's base URL, ending in `/`. */
  baseUrl: URL;
  /** The server's process id, for memory readings. */
  pid: number;
  /** `pid` leads a process group (apache): memory is the sum over the group. */
  processGroup: boolean;
  options: BenchOptions;
  /** False once the server process has exited. */
  serverAlive: () => boolean;
}

export interface RowResult {
  row: RowName;
  label: string;
  unit: Unit;
  /** Throughput of successful operations; null when none succeeded or the row did not run. */
  value: number | null;
  ok: number;
  errors: number;
  errorReasons: Record<string, number>;
  elapsedMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Large-file rows: MiB/s of each successful round (value is their median). */
  rounds?: number[];
  /** Only for the large PUT. */
  memory?: RssReport;
  /** Why the row did not run, if it did not. */
  skipped?: string;
}

export interface RowDefinition {
  name: RowName;
  label: string;
  unit: Unit;
  run(ctx: RowContext): Promise<RowResult>;
}

/** The result of a row that could not run (server down or never started). */
export function skippedRow(row: RowDefinition, reason: string): RowResult {
  return {
    row: row.name,
    label: row.label,
    unit: row.unit,
    value: null,
    ok: 0,
    errors: 0,
    errorReasons: {},
    elapsedMs: 0,
    p50Ms: null,
    p99Ms: null,
    skipped: reason,
  };
}
