/**
 * Turns the bench results into text: a progress line per row while running, and the final table
 * of absolute figures and ratios (keepdav / peer throughput; > 1 means keepdav leads). With apache
 * in the run too, the table has a ratio and a verdict column for each other server (keepdav / peer,
 * keepdav / apache) and a tally line for each; a skipped server (apache not installed) is left
 * out of the table and named in a note.
 *
 * Usage:
 *   console.log(formatProgress(result));
 *   console.log(formatReport(runs, rows, options));
 *
 * A side with errors in a row cannot win that row: the verdict is "keepdav leads" only if keepdav
 * had no error and the ratio is above 1, "peer leads" (or "apache leads") only if that server had
 * no error and the ratio is below 1, and "no winner" otherwise.
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
  /** Set when the server is not available here (apache not installed): not an error. */
  skipped?: string;
  /** Error lines from the server's own log (apache's error.log). */
  logErrors?: string[];
  /** Set when the server exited on its own during the run. */
  died?: string;
  uncaughtExceptions: number;
  /** Its last output lines, kept when something went wrong. */
  outputTail?: string[];
}

export type Verdict = `${ServerName} leads` | 'no winner (errors)' | 'tie' | 'n/a';

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

export function verdictOf(keepdav: RowResult | undefined, peer: RowResult | undefined, other: ServerName = 'peer'): Verdict {
  if (!keepdav || !peer) return 'n/a';
  const ratio = ratioOf(keepdav, peer);
  if (clean(keepdav) && (ratio === null || ratio > 1)) return 'keepdav leads';
  if (clean(peer) && (ratio === null || ratio < 1)) return `${other} leads`;
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

export function formatReport(allRuns: ServerRun[], rows: RowDefinition[], options: BenchOptions): string {
  const runs = allRuns.filter((r) => !r.skipped);
  const find = (server: ServerName, row: RowDefinition): RowResult | undefined =>
    runs.find((r) => r.server === server)?.rows.find((r) => r.row === row.name);
  const servers = runs.map((r) => r.server);
  // keepdav is compared with every other server that ran; one comparison keeps the two-server layout.
  const others = servers.includes('keepdav') ? servers.filter((s) => s !== 'keepdav') : [];
  const several = others.length > 1;
  const mib = (options.largeFileBytes / 1024 / 1024).toFixed(0);
  const ratioText = several
    ? `ratios = ${others.map((o) => `keepdav / ${o}`).join(' and ')}`
    : `ratio = keepdav / ${others[0] ?? servers.find((s) => s !== 'keepdav') ?? 'peer'}`;
  const out: string[] = [
    '',
    `Results (${options.quick ? 'quick' : 'full'} run: ${(options.rowMs / 1000).toFixed(1)} s per rate row, ` +
      `large file ${mib} MiB; ${ratioText}, > 1 means keepdav leads)`,
    '',
  ];

  const header = ['row', 'unit', ...servers];
  for (const other of others) header.push(several ? `vs ${other}` : 'ratio', 'verdict');
  const tallies = new Map<ServerName, Map<Verdict, number>>(others.map((o) => [o, new Map()]));
  const lines = rows.map((row) => {
    const line = [row.label, row.unit, ...servers.map((s) => cell(find(s, row)))];
    for (const other of others) {
      const ratio = ratioOf(find('keepdav', row), find(other, row));
      const verdict = verdictOf(find('keepdav', row), find(other, row), other);
      const tally = tallies.get(other)!;
      tally.set(verdict, (tally.get(verdict) ?? 0) + 1);
      line.push(ratio === null ? '-' : ratio.toFixed(2), verdict);
    }
    return line;
  });
  out.push(...table(header, lines));
  if (others.length > 0) out.push('');
  for (const other of others) {
    const tally = tallies.get(other)!;
    out.push(`${several ? `vs ${other}: ` : ''}keepdav leads ${tally.get('keepdav leads') ?? 0} of ${rows.length} rows; ` +
      `${other} leads ${tally.get(`${other} leads`) ?? 0}; no winner ${tally.get('no winner (errors)') ?? 0}.`);
  }

  out.push('');
  const signedIn = signedInRatio(runs.find((r) => r.server === 'keepdav'));
  if (signedIn) out.push(signedIn);
  for (const run of allRuns.filter((r) => r.skipped)) out.push(`${run.server} SKIPPED: ${run.skipped}`);
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

/** keepdav's signed-in GET 4 KiB as a share of its anonymous one (the credential cache's aim: at least 80%). */
function signedInRatio(run: ServerRun | undefined): string | null {
  const plain = run?.rows.find((r) => r.row === 'get-4k');
  const signedIn = run?.rows.find((r) => r.row === 'get-4k-auth');
  const ratio = ratioOf(signedIn, plain);
  if (ratio === null) return null;
  return `keepdav GET 4 KiB signed in / anonymous: ${ratio.toFixed(2)} (${(ratio * 100).toFixed(0)}%; aim >= 80%)`;
}

function serverNotes(run: ServerRun): string[] {
  const notes: string[] = [];
  const name = run.label === run.server ? run.server : `${run.server} (${run.label})`;
  if (run.startError) notes.push(`${name} DID NOT START: ${run.startError}`);
  if (run.died) notes.push(`${name} DIED during the run: ${run.died}`);
  if (run.uncaughtExceptions > 0) notes.push(`${name} logged ${run.uncaughtExceptions} uncaught exception(s)`);
  if (run.logErrors?.length) {
    notes.push(`${name} error log: ${run.logErrors.length} line(s) at level error or worse, the last ones:`,
      ...run.logErrors.slice(-5).map((l) => `    ${l}`));
  }
  for (const result of run.rows) {
    if (result.errors > 0) notes.push(`${run.server} ${result.row}: ${result.errors} error(s): ${formatReasons(result.errorReasons)}`);
  }
  if ((run.died || run.uncaughtExceptions > 0) && run.outputTail?.length) {
    notes.push(`  last output of ${run.server}:`, ...run.outputTail.slice(-8).map((l) => `    ${l}`));
  }
  return notes;
}
