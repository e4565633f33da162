/**
 * Bench settings from the command line and the environment.
 *
 * Usage: `const options = parseBenchOptions(process.argv.slice(2), process.env);`
 *
 *   --quick             smoke run: 64 MiB large file, ~1.5 s per row
 *   --only=ROW[,ROW]    run only these rows (names in ROW_NAMES)
 *   --seconds=N         measured seconds per throughput row (default 5, quick 1.5)
 *   --large-mib=N       size of the large PUT/GET file (default 512, quick 64)
 *   --json=FILE         also write the results as JSON
 *   --verbose           echo the servers' stdout/stderr
 *   --help              print the usage
 *   BENCH_SERVERS=keepdav,peer   which servers to run (default keepdav,peer; they always run in
 *                       the order keepdav, peer, apache). `apache` adds Apache httpd + mod_dav_fs
 *                       (apacheServer.ts), skipped when apache2 is not installed.
 *   BENCH_KEEPDAV_CMD   keepdav's command line, see serverCommands.ts
 *   BENCH_APACHE_BIN, BENCH_APACHE_MODULES   where apache lives, see apacheServer.ts
 */

export const ROW_NAMES = ['get-4k', 'get-4k-auth', 'propfind-1000', 'put-4k', 'put-large', 'get-large', 'lock-unlock'] as const;
export type RowName = (typeof ROW_NAMES)[number];

export const SERVER_NAMES = ['keepdav', 'peer', 'apache'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];
/** Without BENCH_SERVERS: apache only runs when asked for. */
export const DEFAULT_SERVERS: readonly ServerName[] = ['keepdav', 'peer'];

export interface BenchOptions {
  quick: boolean;
  rows: RowName[];
  servers: ServerName[];
  /** Measured time per throughput row. */
  rowMs: number;
  /** Unmeasured warm-up before each throughput row. */
  warmupMs: number;
  largeFileBytes: number;
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
  const known = new Set(['quick', 'only', 'seconds', 'large-mib', 'json', 'verbose', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);

  const quick = flags.has('quick');
  const only = flags.get('only');
  const seconds = flags.get('seconds');
  const largeMib = flags.get('large-mib');
  const rowMs = seconds ? parsePositive(seconds, '--seconds') * 1000 : quick ? 1500 : 5000;
  return {
    quick,
    rows: only ? parseList(only, ROW_NAMES, 'row') : [...ROW_NAMES],
    servers: env.BENCH_SERVERS ? parseList(env.BENCH_SERVERS, SERVER_NAMES, 'server') : [...DEFAULT_SERVERS],
    rowMs,
    warmupMs: Math.min(500, rowMs / 5),
    largeFileBytes: Math.round((largeMib ? parsePositive(largeMib, '--large-mib') : quick ? 64 : 512) * MIB),
    jsonPath: flags.get('json') || null,
    verbose: flags.has('verbose'),
    help: flags.has('help'),
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--only=ROW[,ROW]] [--seconds=N] [--large-mib=N] [--json=FILE] [--verbose]
rows: ${ROW_NAMES.join(', ')}
env:  BENCH_SERVERS=keepdav,peer[,apache]   BENCH_KEEPDAV_CMD="node --max-semi-space-size=4 bin/keepdav.js serve --root {root} --state {state} --port 0 --host 127.0.0.1"`;
