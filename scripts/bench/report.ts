/**
 * Turns the bench results into text: a progress line per row while running, and the final table
 * of absolute figures and ratios (keepdav / peer throughput; > 1 means keepdav leads).
 *
 * Usage:
 *   console.log(formatProgress(result));
 *   console.log(formatReport(runs, rows, options));
 *
 * A side with errors in a row cannot win that row: the verdict is "keepdav leads" only if keepdav
 * had no error and the ratio is above 1, "peer leads" only if the peer had no error and the
 * ratio is below 1, and "no winner" otherwise.
 */
import type { BenchOptions, ServerName } from './options';
import type { RowDefinition, RowResult } from './rowTypes';

export interface ServerRun {
  server: ServerName;
  label: string;
  command: string;
  rows: RowResult[];
  /** Set when the server could not be started. */
  startError?: string;
  /** Set when the server exited on its own during the run. */
  died?: string;
  uncaughtExceptions: number;
  /** Its last output lines, kept when something went wrong. */
  outputTail?: string[];
}

export type Verdict = 'keepdav leads' | 'peer leads' | 'no winner (errors)' | 'tie' | 'n/a';

function fmtNumber(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function fmtMs(value: number | null): string {
  return value === null ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function cell(result: RowResult | undefined): string {
  if (!result) return '-';
  if (result.skipped) return 'skipped';
  const value = result.value === null ? 'failed' : fmtNumber(result.value);
  return result.errors > 0 ? `${value} [${result.errors} err]` : value;
}

function clean(result: RowResult | undefined): result is RowResult {
  return result !== undefined && !result.skipped && result.errors === 0 && result.value !== null;
}

export function ratioOf(keepdav: RowResult | undefined, peer: RowResult | undefined): number | null {
  if (!keepdav?.value || !peer?.value) return null;
  return keepdav.value / peer.value;
}

export function verdictOf(keepdav: RowResult | undefined, peer: RowResult | undefined): Verdict {
  if (!keepdav || !peer) return 'n/a';
  const ratio = ratioOf(keepdav, peer);
  if (clean(keepdav) && (ratio === null || ratio > 1)) return 'keepdav leads';
  if (clean(peer) && (ratio === null || ratio < 1)) return 'peer leads';
  if (clean(keepdav) && clean(peer)) return 'tie';
  return 'no winner (errors)';
}

export function formatProgress(result: RowResult): string {
  const head = `  ${result.row.padEnd(14)}`;
  if (result.skipped) return `${head}skipped: ${result.skipped}`;
  const value = result.value === null ? 'failed' : `${fmtNumber(result.value)} ${result.unit}`;
  const latency = result.p50Ms === null ? '' : `, p50 ${fmtMs(result.p50Ms)} ms, p99 ${fmtMs(result.p99Ms)} ms`;
  const errors = result.errors > 0 ? `, ${result.errors} ERRORS: ${formatReasons(result.errorReasons)}` : '';
  const rounds = result.rounds?.length ? `, rounds ${result.rounds.map(fmtNumber).join(' / ')} MiB/s` : '';
  const memory = result.memory?.peakMiB != null ? `, peak RSS ${result.memory.peakMiB.toFixed(0)} MiB` : '';
  return `${head}${value.padEnd(16)} (${result.ok} ok in ${(result.elapsedMs / 1000).toFixed(2)} s${latency}${rounds}${errors}${memory})`;
}

function formatReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${count}x ${reason}`)
    .join(', ');
}

function table(header: string[], lines: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)];
}

export function formatReport(runs: ServerRun[], rows: RowDefinition[], options: BenchOptions): string {
  const find = (server: ServerName, row: RowDefinition): RowResult | undefined =>
    runs.find((r) => r.server === server)?.rows.find((r) => r.row === row.name);
  const servers = runs.map((r) => r.server);
  const both = servers.includes('keepdav') && servers.includes('peer');
  const mib = (options.largeFileBytes / 1024 / 1024).toFixed(0);
  const out: string[] = [
    '',
    `Results (${options.quick ? 'quick' : 'full'} run: ${(options.rowMs / 1000).toFixed(1)} s per rate row, ` +
      `large file ${mib} MiB; ratio = keepdav / peer, > 1 means keepdav leads)`,
    '',
  ];

  const header = ['row', 'unit', ...runs.map((r) => r.server === 'peer' ? 'peer' : 'keepdav')];
  if (both) header.push('ratio', 'verdict');
  const tally = new Map<Verdict, number>();
  const lines = rows.map((row) => {
    const line = [row.label, row.unit, ...servers.map((s) => cell(find(s, row)))];
    if (both) {
      const ratio = ratioOf(find('keepdav', row), find('peer', row));
      const verdict = verdictOf(find('keepdav', row), find('peer', row));
      tally.set(verdict, (tally.get(verdict) ?? 0) + 1);
      line.push(ratio === null ? '-' : ratio.toFixed(2), verdict);
    }
    return line;
  });
  out.push(...table(header, lines));
  if (both) {
    out.push('', `keepdav leads ${tally.get('keepdav leads') ?? 0} of ${rows.length} rows; ` +
      `peer leads ${tally.get('peer leads') ?? 0}; no winner ${tally.get('no winner (errors)') ?? 0}.`);
  }

  out.push('');
  for (const run of runs) {
    const put = run.rows.find((r) => r.row === 'put-large');
    if (put?.memory) {
      const { peakMiB, baselineMiB, source } = put.memory;
      out.push(`${run.server} RSS during the ${mib} MiB PUTs: peak ${peakMiB === null ? '?' : peakMiB.toFixed(0)} MiB, ` +
        `baseline ${baselineMiB === null ? '?' : baselineMiB.toFixed(0)} MiB (${source})`);
    }
  }
  for (const run of runs) out.push(...serverNotes(run));
  return out.join('\n');
}

function serverNotes(run: ServerRun): string[] {
  const notes: string[] = [];
  const name = run.label === run.server ? run.server : `${run.server} (${run.label})`;
  if (run.startError) notes.push(`${name} DID NOT START: ${run.startError}`);
  if (run.died) notes.push(`${name} DIED during the run: ${run.died}`);
  if (run.uncaughtExceptions > 0) notes.push(`${name} logged ${run.uncaughtExceptions} uncaught exception(s)`);
  for (const result of run.rows) {
    if (result.errors > 0) notes.push(`${run.server} ${result.row}: ${result.errors} error(s): ${formatReasons(result.errorReasons)}`);
  }
  if ((run.died || run.uncaughtExceptions > 0) && run.outputTail?.length) {
    notes.push(`  last output of ${run.server}:`, ...run.outputTail.slice(-8).map((l) => `    ${l}`));
  }
  return notes;
}
