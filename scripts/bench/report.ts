/**
 * Turns the bench results into text: a progress line per measurement while running, and one
 * Markdown table at the end (servers as columns, workloads as rows, medians over the rounds,
 * then keepdav ÷ Apache as a speed ratio: > 1 means keepdav is faster, for times too).
 *
 * Usage:
 *   console.log(formatProgress(round, row, server, measurement, peakMiB));
 *   console.log(formatReport(results));
 *
 * A cell with failures says how many (LOCK+UNLOCK: which share of the pairs failed); a server
 * that is not installed is left out of the table and named in a note below it.
 */
import type { ServerName } from './options';
import { lowerIsBetter, type Measurement, type RowDefinition } from './rowTypes';
import { LOCK_CONNECTIONS } from './rows';

export interface ServerColumn {
  server: ServerName;
  label: string;
  /** Why it did not run (not installed, did not start). */
  skipped?: string;
  idleStartMiB: number | null;
  idleEndMiB: number | null;
  /** Idle RSS once the server has been left alone for `quietSeconds` after the run (null: not measured). */
  idleQuietMiB: number | null;
}

export interface BenchResults {
  rows: RowDefinition[];
  servers: ServerColumn[];
  /** server -> row -> one measurement per round. */
  measurements: Map<ServerName, Map<string, Measurement[]>>;
  /** server -> row -> peak RSS over the rounds (MiB). */
  peaks: Map<ServerName, Map<string, number>>;
  loadBefore: string;
  loadAfter: string;
  rounds: number;
  rowSeconds: number;
  /** Seconds the servers were left alone after the run before idle RSS was read again (0: not read). */
  quietSeconds: number;
  largeMiB: number;
}

const SHORT_LABEL: Record<ServerName, string> = {
  keepdav: 'keepdav',
  'keepdav-pg': 'keepdav-pg',
  apache: 'Apache',
  nginx: 'nginx',
  lighttpd: 'lighttpd',
  peer: 'webdav-server',
  baseline: 'keepdav baseline',
  ceiling: 'node:http ceiling',
};

function fmt(value: number, unit: string): string {
  if (unit === 's') return value < 1 ? value.toFixed(3) : value.toFixed(2);
  if (unit === 'ms/pair') return value.toFixed(2);
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 100) return Math.round(value).toString();
  return value.toFixed(1);
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Summary {
  value: number | null;
  errors: number;
  attempts: number;
  note?: string;
}

function summarize(list: Measurement[] | undefined): Summary | null {
  if (!list || list.length === 0) return null;
  const values = list.map((m) => m.value).filter((v): v is number => v !== null);
  return {
    value: median(values),
    errors: list.reduce((sum, m) => sum + m.errors, 0),
    attempts: list.reduce((sum, m) => sum + (m.attempts ?? 0), 0),
    note: list.find((m) => m.note)?.note,
  };
}

function cell(summary: Summary | null, row: RowDefinition): string {
  if (!summary) return '–';
  const value = summary.value === null ? 'failed' : summary.value === 0 ? 'none finished' : fmt(summary.value, row.unit);
  if (row.name === 'lock-unlock' && summary.value) {
    // Each of the LOCK_CONNECTIONS connections runs its pairs back to back: latency = conns / rate.
    const latency = `${((LOCK_CONNECTIONS * 1000) / summary.value).toFixed(2)} ms/pair`;
    if (summary.errors === 0) return `${value} (${latency})`;
    if (summary.attempts > 0) return `${value} (${latency}, ${Math.round((100 * summary.errors) / summary.attempts)} % failed)`;
  }
  if (summary.errors === 0) return value;
  if (row.name === 'lock-unlock' && summary.attempts > 0) {
    return `${value} (${Math.round((100 * summary.errors) / summary.attempts)} % failed)`;
  }
  return `${value} (${summary.errors} errors)`;
}

/** keepdav ÷ apache as speed: throughput ratio, or time ratio inverted. */
function speedRatio(row: RowDefinition, keepdav: Summary | null, apache: Summary | null): string {
  if (!keepdav?.value || !apache?.value) return '';
  const ratio = lowerIsBetter(row) ? apache.value / keepdav.value : keepdav.value / apache.value;
  return `${ratio.toFixed(2)}×`;
}

export function formatProgress(round: number, row: RowDefinition, server: ServerName, m: Measurement, peakMiB: number | null): string {
  const value = m.value === null ? 'failed' : `${fmt(m.value, row.unit)} ${row.unit}`;
  const errors = m.errors > 0 ? `, ${m.errors} errors${m.note ? ` (${m.note})` : ''}` : '';
  const rss = peakMiB === null ? '' : `, peak RSS ${peakMiB.toFixed(0)} MiB`;
  const cpu = m.cpuMsPerOp === undefined ? '' : `, server CPU ${m.cpuMsPerOp < 1 ? `${(m.cpuMsPerOp * 1000).toFixed(0)} µs` : `${m.cpuMsPerOp.toFixed(1)} ms`}/op`;
  return `  round ${round} ${row.name.padEnd(15)} ${SHORT_LABEL[server].padEnd(16)} ${value}${errors}${rss}${cpu}`;
}

function mib(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toFixed(0);
}

export function formatReport(results: BenchResults): string {
  const running = results.servers.filter((s) => !s.skipped);
  const hasApache = running.some((s) => s.server === 'apache');
  const header = ['workload', ...running.map((s) => SHORT_LABEL[s.server])];
  if (hasApache) header.push('keepdav ÷ Apache');
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const summaryOf = (server: ServerName, row: string): Summary | null => summarize(results.measurements.get(server)?.get(row));

  for (const row of results.rows) {
    const label = row.unit === 's' ? row.label : `${row.label} (${row.unit})`;
    const cells = running.map((s) => {
      if (row.appliesTo && !row.appliesTo(s.server)) return '–';
      const summary = summaryOf(s.server, row.name);
      if (row.name === 'get-4k-auth') {
        const anonymous = summaryOf(s.server, 'get-4k')?.value;
        const text = cell(summary, row);
        return summary?.value && anonymous ? `${text} (${Math.round((100 * summary.value) / anonymous)} % of anonymous)` : text;
      }
      return cell(summary, row);
    });
    if (hasApache) cells.push(row.name === 'get-4k-auth' ? '' : speedRatio(row, summaryOf('keepdav', row.name), summaryOf('apache', row.name)));
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }

  const tail = hasApache ? [''] : [];
  const peak = (server: ServerName, names: string[]): number | null => {
    const found = names.map((n) => results.peaks.get(server)?.get(n)).filter((v): v is number => v !== undefined);
    return found.length ? Math.max(...found) : null;
  };
  const memoryParts: Array<[string, string[]]> = [
    ['small PUTs', ['put-4k', 'put-4k-over']],
    ['large PUT', ['put-large']],
    ['PROPFIND 10,000', ['propfind-10000']],
    ['any row', results.rows.map((r) => r.name)],
  ];
  const parts = memoryParts.filter(([, names]) => names.some((n) => results.rows.some((r) => r.name === n)));
  lines.push(`| peak RSS: ${parts.map(([what]) => what).join(' / ')} (MiB) | ${running.map((s) => parts.map(([, names]) => mib(peak(s.server, names))).join(' / ')).concat(tail).join(' | ')} |`);
  const cpuRows = ['get-4k', 'propfind-1000', 'put-4k', 'put-4k-over'].filter((n) => results.rows.some((r) => r.name === n));
  if (cpuRows.length > 0) {
    const cpuOf = (server: ServerName, row: string): string => {
      const values = (results.measurements.get(server)?.get(row) ?? []).map((m) => m.cpuMsPerOp).filter((v): v is number => v !== undefined);
      const ms = median(values);
      return ms === null ? '–' : ms < 1 ? `${Math.round(ms * 1000)} µs` : `${ms.toFixed(1)} ms`;
    };
    const short: Record<string, string> = { 'get-4k': 'GET 4 KiB', 'propfind-1000': 'PROPFIND 1,000', 'put-4k': 'PUT 4 KiB', 'put-4k-over': 'PUT over' };
    const what = cpuRows.map((n) => short[n]).join(' / ');
    lines.push(`| server CPU per request: ${what} | ${running.map((s) => cpuRows.map((n) => cpuOf(s.server, n)).join(' / ')).concat(tail).join(' | ')} |`);
  }
  const quiet = results.quietSeconds > 0 ? ` / ${results.quietSeconds} s later` : '';
  const idle = (s: ServerColumn) => `${mib(s.idleStartMiB)} / ${mib(s.idleEndMiB)}${quiet ? ` / ${mib(s.idleQuietMiB)}` : ''}`;
  lines.push(`| idle RSS: after start / after the run${quiet} (MiB) | ${running.map(idle).concat(tail).join(' | ')} |`);

  const notes = [
    '',
    `${results.rounds} interleaved round(s), medians; wrk ${results.rowSeconds} s per throughput row; large file ${results.largeMiB} MiB; ` +
      `load average before ${results.loadBefore}, after ${results.loadAfter}.`,
    `Servers: ${running.map((s) => s.label).join('; ')}.`,
  ];
  for (const s of results.servers.filter((c) => c.skipped)) notes.push(`${SHORT_LABEL[s.server]} not measured: ${s.skipped}`);
  return [...lines, ...notes].join('\n');
}
