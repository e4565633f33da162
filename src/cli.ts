/**
 * The keepdav command line: `keepdav serve --root DIR --state DIR --port N --host ADDR ...`.
 * Prints one line containing "listening" and the URL when ready; SIGTERM/SIGINT stop it
 * gracefully with exit code 0. Unknown options or an unusable root exit non-zero with a message.
 */
import { parseArgs } from 'node:util';
import { resolveConfig, ConfigError, DEFAULTS, type ConfigInput } from './config';
import { startServer, openServices } from './server';
import { davPathFromUrlPath } from './paths/davPath';
import { restoreVersion, UnknownVersionError } from './versions/restoreVersion';
import { formatHttpDate } from './headers/httpDate';
import { parseSize, parseDuration, UnitError } from './units';
import { createLogging, type LogFormat, type LogLevel } from './logging/logger';
import { maintenanceCommand } from './maintenance/maintenanceCommand';
import { TASK_NAMES, type TaskName } from './maintenance/taskRunner';

const HELP = `keepdav: a WebDAV server that never silently loses a write

Usage:
  keepdav serve [options]
  keepdav versions PATH [--root DIR] [--state DIR]
      list the retained versions of PATH (also of a deleted file), newest first:
      one a line: version id, time retained, size, ETag, why it was retained
  keepdav restore PATH --version ID [--root DIR] [--state DIR]
      bring version ID of PATH back (a restore is itself a new version, so it can be undone)
  keepdav scrub|prune|reindex [--root DIR] [--state DIR]
      maintenance: check and repair the index / apply retention now / rebuild version records;
      runs in the server when one with --admin-listen owns the state, else directly

PATH is the resource's path on the server, e.g. /docs/report.odt (percent-encoding allowed).

Options for serve:
  --root DIR               directory to serve (default: ./storage)
  --state DIR              where locks, dead properties and versions are kept
                           (default: DIR.keepdav-state beside the root; never inside it)
  --port N                 TCP port; 0 picks a free one (default: ${DEFAULTS.port})
  --host ADDR              address to listen on (default: ${DEFAULTS.host})
  --lock-timeout-min S     floor for granted lock timeouts, seconds (default: ${DEFAULTS.lockTimeout.minSeconds})
  --lock-timeout-max S     ceiling for granted lock timeouts, seconds, or "infinite" (default: infinite)
  --lock-timeout-default S timeout granted when the client asks none (default: ${DEFAULTS.lockTimeout.defaultSeconds})
  --propfind-infinity      answer PROPFIND with Depth: infinity (default: 403 propfind-finite-depth)
  --max-xml-body BYTES     largest XML request body (default: ${DEFAULTS.maxXmlBodyBytes})
  --idle-timeout S         close connections idle this long (default: ${DEFAULTS.idleTimeoutMs / 1000})
  --access-log             accepted for compatibility: the access log is always on
  --log-format FORMAT      json (default: one JSON object a line) or pretty
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace or silent
  --log-file FILE          append the log to FILE instead of stderr (SIGHUP reopens it)
  --admin-listen ADDR:PORT metrics, /healthz, /readyz and /tasks on a loopback address (default: off)
  --lock-token-header      count a Lock-Token header on PUT etc. as a submitted token (Word 2016)
  --hide-lockroot          leave DAV:lockroot out of lock answers (old Office versions)
  --no-stale-check         accept uploads that state an older modification time
                           (default: refuse them with 409 stale-version)
  --case-insensitive       names differing only in case are the same name (409 duplicate-name)
  --retain-versions N      replaced versions kept per path, 0 turns retention off (default: ${DEFAULTS.retention.maxVersionsPerPath})
  --retain-days D          replaced versions older than D days are pruned, or a duration such as 12h (default: ${DEFAULTS.retention.maxAgeMs / 86400000})
  --retain-bytes BYTES     total bytes of replaced versions kept, or a size such as 10GiB (default: 10GiB)
  -h, --help               show this help

Sizes take units (512MB, 10GiB, 10G = 10GiB); durations too (90s, 12h, 30d; a plain number keeps
the option's unit).
`;

class UsageError extends Error {}

function numberOption(name: string, value: string | undefined, allowInfinite = false): number | undefined {
  if (value === undefined) return undefined;
  if (allowInfinite && /^infinite$/i.test(value)) return Infinity;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, not "${value}"`);
  return n;
}

function sizeOption(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseSize(name, value);
}

function durationOption(name: string, value: string | undefined, plainUnitMs: number): number | undefined {
  return value === undefined ? undefined : parseDuration(name, value, plainUnitMs);
}

function serveConfig(args: string[]): ConfigInput {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      root: { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'lock-timeout-min': { type: 'string' },
      'lock-timeout-max': { type: 'string' },
      'lock-timeout-default': { type: 'string' },
      'propfind-infinity': { type: 'boolean' },
      'max-xml-body': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'access-log': { type: 'boolean' },
      'lock-token-header': { type: 'boolean' },
      'hide-lockroot': { type: 'boolean' },
      'no-stale-check': { type: 'boolean' },
      'case-insensitive': { type: 'boolean' },
      'retain-versions': { type: 'string' },
      'retain-days': { type: 'string' },
      'retain-bytes': { type: 'string' },
      'log-format': { type: 'string' },
      'log-level': { type: 'string' },
      'log-file': { type: 'string' },
      'admin-listen': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const idle = durationOption('idle-timeout', values['idle-timeout'], 1000);
  const seconds = (name: string, value: string | undefined) => {
    const ms = durationOption(name, value, 1000);
    return ms === undefined ? undefined : ms / 1000;
  };
  return {
    root: values.root ?? 'storage',
    stateDir: values.state,
    port: numberOption('port', values.port),
    host: values.host,
    lockTimeout: {
      minSeconds: seconds('lock-timeout-min', values['lock-timeout-min']),
      maxSeconds: /^infinite$/i.test(values['lock-timeout-max'] ?? '') ? Infinity : seconds('lock-timeout-max', values['lock-timeout-max']),
      defaultSeconds: seconds('lock-timeout-default', values['lock-timeout-default']),
    },
    allowPropfindInfinity: values['propfind-infinity'],
    maxXmlBodyBytes: sizeOption('max-xml-body', values['max-xml-body']),
    idleTimeoutMs: idle,
    accessLog: values['access-log'],
    lockTokenHeaderSubmits: values['lock-token-header'],
    hideLockRoot: values['hide-lockroot'],
    staleUploadCheck: values['no-stale-check'] ? false : undefined,
    caseInsensitive: values['case-insensitive'],
    retention: {
      maxVersionsPerPath: numberOption('retain-versions', values['retain-versions']),
      maxAgeMs: durationOption('retain-days', values['retain-days'], 86400000),
      maxBytes: sizeOption('retain-bytes', values['retain-bytes']),
    },
    log: { format: values['log-format'] as LogFormat | undefined, level: values['log-level'] as LogLevel | undefined, file: values['log-file'] },
    adminListen: values['admin-listen'],
  };
}

/** `versions` and `restore`: the same store the server uses, opened directly. */
async function versionCommand(command: 'versions' | 'restore', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { root: { type: 'string' }, state: { type: 'string' }, version: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one PATH`);
  if (command === 'restore' && values.version === undefined) throw new UsageError('restore needs --version ID');
  const path = davPathFromUrlPath(positionals[0].startsWith('/') ? positionals[0] : '/' + positionals[0]);
  const { services, db } = await openServices(resolveConfig({ root: values.root ?? 'storage', stateDir: values.state }), { recover: false });
  try {
    if (command === 'versions') {
      for (const v of services.retention.list(path)) {
        process.stdout.write(`${v.id}  ${new Date(v.retainedAtMs).toISOString()}  ${v.size}  ${v.etag}  ${v.reason}  modified ${formatHttpDate(v.mtimeMs)}\n`);
      }
      return 0;
    }
    try {
      const result = await restoreVersion(services, path, values.version!);
      const undo = result.replacedVersionId ? ` (what it replaced is version ${result.replacedVersionId})` : '';
      process.stdout.write(`restored ${path} to version ${values.version}; new ETag ${result.etag}${undo}\n`);
      return 0;
    } catch (err) {
      if (err instanceof UnknownVersionError) {
        process.stderr.write(`keepdav: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  } finally {
    db.close();
  }
}

/** `scrub`, `prune`, `reindex`: in the running server when it has an admin listener, else directly. */
async function maintenance(task: TaskName, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { root: { type: 'string' }, state: { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const config = resolveConfig({ root: values.root ?? 'storage', stateDir: values.state });
  return maintenanceCommand(task, config, (line) => process.stdout.write(line + '\n'));
}

async function serve(args: string[]): Promise<void> {
  const config = resolveConfig(serveConfig(args));
  let logging;
  try {
    logging = createLogging(config.log);
  } catch (err) {
    throw new UsageError(`--log-file ${config.log.file}: cannot open it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { logger } = logging;
  const server = await startServer(config, logger);
  logger.info({ url: server.url, root: config.root, state: config.stateDir, adminUrl: server.adminUrl }, `listening on ${server.url}`);
  process.stdout.write(`keepdav listening on ${server.url} (root ${config.root}, state ${config.stateDir})\n`);
  // SIGHUP: reopen the log file (logrotate). One handler; other reloads are added to it.
  process.on('SIGHUP', () => logging.reopenLogFile());
  const stop = (signal: string) => {
    logger.info({ signal }, `${signal}, finishing in-flight requests`);
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    }
    if (command === 'serve') {
      await serve(rest);
      return -1; // keeps running
    }
    if (command === 'versions' || command === 'restore') return await versionCommand(command, rest);
    if ((TASK_NAMES as readonly string[]).includes(command)) return await maintenance(command as TaskName, rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof UnitError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`keepdav: ${(err as Error).message}\nRun "keepdav --help" for the options.\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    // Never a stack trace: one line (the log, when it is up, has the stack of internal errors).
    process.stderr.write(`keepdav: ${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
