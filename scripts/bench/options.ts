/**
 * Bench settings from the command line and the environment.
 *
 * Usage: `const options = parseBenchOptions(process.argv.slice(2), process.env);`
 *
 *   --quick             for iterating: 1 round, 2 s per throughput row, 64 MiB large file
 *   --only=ROW[,ROW]    run only these rows (names in ROW_NAMES)
 *   --rounds=N          interleaved rounds; each figure is the median over them (default 2)
 *   --seconds=N         wrk duration per throughput row and server (default 5, quick 2)
 *   --large-mib=N       size of the large PUT/GET file (default 512, quick 64)
 *   --quiet-seconds=N   idle RSS again N seconds after the run (default 30, quick 0: not measured),
 *                       what each server settles at once it has been left alone
 *   --json=FILE         also write every measurement as JSON
 *   --verbose           echo the servers' stdout/stderr
 *   --help              print the usage
 *   BENCH_SERVERS=keepdav,apache,...   which servers (default: all of SERVER_NAMES; a server whose
 *                       program is not installed is skipped with a note, never an error)
 *   BENCH_KEEPDAV_CMD   keepdav's command line, see serverCommands.ts
 *   BENCH_BASELINE_CMD  a second keepdav to compare with (another build, for A/B), same template;
 *                       the `baseline` server runs only when this is set; with `{stateUrl}` in it,
 *                       the baseline gets a PostgreSQL cluster of its own, as keepdav-pg does
 *   BENCH_APACHE_BIN, BENCH_APACHE_MODULES   where apache lives, see apacheServer.ts
 */

import { DEFAULT_KEEPDAV_CMD } from './serverCommands';

export const ROW_NAMES = [
  'get-4k',
  'get-4k-auth',
  'propfind-1000',
  'propfind-allprop-1000',
  'propfind-10000',
  'put-4k',
  'put-4k-over',
  'put-large',
  'get-large',
  'lock-unlock',
  'lock-unlock-1',
] as const;
export type RowName = (typeof ROW_NAMES)[number];

/**
 * apache is the bar: ratios are keepdav ÷ apache. keepdav-pg is keepdav with its state in a
 * PostgreSQL cluster the bench starts itself (postgresServer.ts; skipped when PostgreSQL is not
 * installed). peer is the webdav-server npm package; baseline
 * another keepdav build (BENCH_BASELINE_CMD); ceiling a bare node:http server (nodeCeiling.ts:
 * GET, PROPFIND Depth 1 and durable PUTs only): what Node.js itself allows here.
 */
export const SERVER_NAMES = ['keepdav', 'keepdav-pg', 'apache', 'nginx', 'lighttpd', 'peer', 'baseline', 'ceiling'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface BenchOptions {
  quick: boolean;
  rows: RowName[];
  servers: ServerName[];
  rounds: number;
  /** wrk duration per throughput row. */
  rowSeconds: number;
  largeFileBytes: number;
  /** Seconds after the run before idle RSS is read again; 0: not read. */
  quietSeconds: number;
  jsonPath: string | null;
  verbose: boolean;
  help: boolean;
}

const MIB = 1024 * 1024;

function parseList<T extends string>(raw: string, allowed: readonly T[], what: string): T[] {
  const picked = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const name of picked) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new Error(`unknown ${what} "${name}"; choose from ${allowed.join(', ')}`);
    }
  }
  if (picked.length === 0) throw new Error(`empty ${what} list`);
  // Keep the canonical order whatever order the user typed.
  return allowed.filter((name) => picked.includes(name));
}

function parsePositive(raw: string, what: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${what} must be a positive number`);
  return value;
}

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument: ${arg}`);
    flags.set(match[1], match[2] ?? '');
  }
  const known = new Set(['quick', 'only', 'rounds', 'seconds', 'large-mib', 'quiet-seconds', 'json', 'verbose', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);

  const quick = flags.has('quick');
  const only = flags.get('only');
  const seconds = flags.get('seconds');
  const rounds = flags.get('rounds');
  const largeMib = flags.get('large-mib');
  const quiet = flags.get('quiet-seconds');
  return {
    quick,
    rows: only ? parseList(only, ROW_NAMES, 'row') : [...ROW_NAMES],
    servers: env.BENCH_SERVERS ? parseList(env.BENCH_SERVERS, SERVER_NAMES, 'server') : [...SERVER_NAMES],
    rounds: rounds ? Math.max(1, Math.round(parsePositive(rounds, '--rounds'))) : quick ? 1 : 2,
    rowSeconds: seconds ? Math.max(1, Math.round(parsePositive(seconds, '--seconds'))) : quick ? 2 : 5,
    largeFileBytes: Math.round((largeMib ? parsePositive(largeMib, '--large-mib') : quick ? 64 : 512) * MIB),
    quietSeconds: quiet !== undefined ? (quiet === '0' ? 0 : Math.round(parsePositive(quiet, '--quiet-seconds'))) : quick ? 0 : 30,
    jsonPath: flags.get('json') || null,
    verbose: flags.has('verbose'),
    help: flags.has('help'),
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--only=ROW[,ROW]] [--rounds=N] [--seconds=N] [--large-mib=N] [--quiet-seconds=N] [--json=FILE] [--verbose]
rows:    ${ROW_NAMES.join(', ')}
servers: BENCH_SERVERS=${SERVER_NAMES.join(',')} (default: all that are installed)
keepdav: BENCH_KEEPDAV_CMD="${DEFAULT_KEEPDAV_CMD}"`;
