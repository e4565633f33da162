/**
 * The keepdav command line: `keepdav serve --root DIR --state DIR --port N --host ADDR ...`.
 * Prints one line containing "listening" and the URL when ready; SIGTERM/SIGINT stop it
 * gracefully with exit code 0. Unknown options or an unusable root exit non-zero with a message.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, ConfigError } from './config';
import { optionsHelp } from './settings/options';
import { loadServeSettings, changedSettings } from './settings/loadSettings';
import { startServer, openServices } from './server';
import { davPathFromUrlPath } from './paths/davPath';
import { restoreVersion, UnknownVersionError } from './versions/restoreVersion';
import { allTrash, servedIn } from './versions/trash';
import { StorageError } from './storage/storageErrors';
import { formatHttpDate } from './headers/httpDate';
import { StateInUseError } from './state/stateOwnership';
import { ForeignStateError } from './state/rootIdentity';
import { DamagedStateError } from './state/openCheckedDatabase';
import { restoreThroughServer } from './remoteRestore';
import { UnitError } from './units';
import { createLogging } from './logging/logger';
import { maintenanceCommand } from './maintenance/maintenanceCommand';
import { TASK_NAMES, type TaskName } from './maintenance/taskRunner';
import { isPostgresUrl, redactUrl } from './state/postgres/stateUrl';

const HELP = `keepdav: a WebDAV server that never silently loses a write

Usage:
  keepdav serve [options]
  keepdav versions PATH [--root DIR] [--state DIR]
      list the retained versions of PATH (also of a deleted file), newest first:
      one a line: version id, time retained, size, ETag, why it was retained
  keepdav restore PATH --version ID [--root DIR] [--state DIR] [--to NEWPATH]
      bring version ID of PATH back (a restore is itself a new version, so it can be undone);
      --to writes it at NEWPATH instead (what is there is retained too); while a server owns
      the state, the restore is sent to it (KEEPDAV_USER / KEEPDAV_PASSWORD give its credentials)
  keepdav trash DIR [--root DIR] [--state DIR]
      list what was deleted at or below the collection DIR, newest deletion first: one a line:
      version id, time deleted, size, ETag, path, all version ids of that path
  keepdav migrate --state postgres://user@host/db
      create or update the schema of a shared state database (serve does it at start too)
  keepdav scrub|prune|reindex [--root DIR] [--state DIR]
      maintenance: check and repair the index / apply retention now / rebuild version records;
      runs in the server when one with --admin-listen owns the state, else directly

PATH is the resource's path on the server, e.g. /docs/report.odt (percent-encoding allowed).
--root defaults to ./storage and --state to the root's sibling DIR.keepdav-state, as for serve;
with --state postgres://..., --state-dir names the shared directory of retained bytes.

Options for serve (each also a key of the --config file and a KEEPDAV_<NAME> variable;
flags win over variables, variables over the file):
${optionsHelp()}
  -h, --help               show this help
  -V, --version            print the version

Sizes take units (512MB, 10GiB, 10G = 10GiB); durations too (90s, 12h, 30d; a plain number keeps
the option's unit).
`;

class UsageError extends Error {}

/** `--state` of versions, restore, trash and the maintenance commands: a directory, or a shared database's URL. */
function stateOption(value: string | undefined, filesDir: string | undefined): { stateDir?: string; stateUrl?: string } {
  return value !== undefined && isPostgresUrl(value) ? { stateUrl: value, stateDir: filesDir } : { stateDir: value ?? filesDir };
}

/** `versions` and `restore`: the same store the server uses, opened directly. */
async function versionCommand(command: 'versions' | 'restore', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { root: { type: 'string' }, state: { type: 'string' }, 'state-dir': { type: 'string' }, version: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one PATH`);
  if (command === 'restore' && values.version === undefined) throw new UsageError('restore needs --version ID');
  const path = davPathFromUrlPath(positionals[0].startsWith('/') ? positionals[0] : '/' + positionals[0]);
  const config = resolveConfig({ root: values.root ?? 'storage', ...stateOption(values.state, values['state-dir']) });
  let opened;
  try {
    // versions only reads (SQLite WAL readers run beside a server); restore takes the state, or
    // hands the restore to the server that holds it.
    opened = await openServices(config, command === 'versions' ? { recover: false } : { recover: true, own: true, existing: true });
  } catch (err) {
    if (!(err instanceof StateInUseError) || command !== 'restore' || !err.owner?.url) throw err;
    const to = values.to === undefined ? path : davPathFromUrlPath(values.to.startsWith('/') ? values.to : '/' + values.to);
    const outcome = await restoreThroughServer(err.owner.url, path, values.version!, to, process.env, err.owner.certificateSha256);
    (outcome.ok ? process.stdout : process.stderr).write(`${outcome.ok ? '' : 'keepdav: '}${outcome.message}\n`);
    return outcome.ok ? 0 : 1;
  }
  const { services, state, ownership } = opened;
  try {
    if (command === 'versions') {
      for (const v of await services.retention.list(path)) {
        process.stdout.write(`${v.id}  ${new Date(v.retainedAtMs).toISOString()}  ${v.size}  ${v.etag}  ${v.reason}  modified ${formatHttpDate(v.mtimeMs)}\n`);
      }
      return 0;
    }
    try {
      const to = values.to === undefined ? path : davPathFromUrlPath(values.to.startsWith('/') ? values.to : '/' + values.to);
      const result = await restoreVersion(services, path, values.version!, to);
      const undo = result.replacedVersionId ? ` (what it replaced is version ${result.replacedVersionId})` : '';
      const where = to === path ? '' : ` at ${to}`;
      process.stdout.write(`restored ${path} to version ${values.version}${where}; new ETag ${result.etag}${undo}\n`);
      return 0;
    } catch (err) {
      if (err instanceof UnknownVersionError || err instanceof StorageError) {
        process.stderr.write(`keepdav: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  } finally {
    await state.close();
    ownership?.release();
  }
}

/** `trash DIR`: what was deleted at or below DIR, as GET DIR?trash lists it (newest deletion first). */
async function trash(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { root: { type: 'string' }, state: { type: 'string' }, 'state-dir': { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('trash takes exactly one DIR');
  const dir = davPathFromUrlPath(positionals[0].startsWith('/') ? positionals[0] : '/' + positionals[0]);
  const { services, state } = await openServices(resolveConfig({ root: values.root ?? 'storage', ...stateOption(values.state, values['state-dir']) }), { recover: false });
  try {
    for await (const e of allTrash(services.retention, dir, servedIn(services.store))) {
      const v = e.newest;
      process.stdout.write(`${v.id}  ${new Date(v.retainedAtMs).toISOString()}  ${v.size}  ${v.etag}  ${e.path}  versions ${e.versionIds.join(',')}\n`);
    }
    return 0;
  } finally {
    await state.close();
  }
}

/** `scrub`, `prune`, `reindex`: in the running server when it has an admin listener, else directly. */
async function maintenance(task: TaskName, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { root: { type: 'string' }, state: { type: 'string' }, 'state-dir': { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const config = resolveConfig({ root: values.root ?? 'storage', ...stateOption(values.state, values['state-dir']) });
  return maintenanceCommand(task, config, (line) => process.stdout.write(line + '\n'));
}

/** `migrate --state postgres://…` (or KEEPDAV_STATE): the shared state database's schema, up to date. */
async function migrateState(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { state: { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const url = values.state ?? process.env.KEEPDAV_STATE;
  if (url === undefined || !isPostgresUrl(url)) throw new UsageError('migrate needs --state postgres://user@host/db (an embedded SQLite state migrates itself at start)');
  // Loaded only here and for a served database: the client is of no use to an embedded state.
  const { migrateCommand } = await import('./state/postgres/migrateCommand');
  return migrateCommand(url, (line) => process.stdout.write(line + '\n'), (line) => process.stderr.write(line + '\n'));
}

async function serve(args: string[]): Promise<void> {
  const config = resolveConfig(loadServeSettings(args));
  let logging;
  try {
    logging = createLogging(config.log);
  } catch (err) {
    throw new UsageError(`--log-file ${config.log.file}: cannot open it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { logger } = logging;
  const server = await startServer(config, logger);
  logger.info({ url: server.url, root: config.root, state: config.stateDir, adminUrl: server.adminUrl }, `listening on ${server.url}`);
  process.stdout.write(`keepdav listening on ${server.url} (root ${config.root}, state ${config.stateUrl ? `${redactUrl(config.stateUrl)}, files ${config.stateDir}` : config.stateDir})\n`);
  // SIGHUP (systemctl reload, logrotate): reopen the log file; read flags, environment and
  // configuration file again and apply what may change live (TLS certificate and key, users and
  // access rules); a reload that fails keeps the old settings.
  process.on('SIGHUP', () => {
    try {
      logging.reopenLogFile();
    } catch (err) {
      logger.error({ signal: 'SIGHUP' }, `SIGHUP: the log file could not be reopened (${(err as Error).message}); the log goes on into the file open before`);
    }
    try {
      const next = resolveConfig(loadServeSettings(args));
      server.reload(next);
      const later = changedSettings(config, next, ['tls', 'access', 'usersFile', 'anonymous', 'readOnly', 'authFailLimit']);
      logger.info({ signal: 'SIGHUP', later }, `SIGHUP, settings reloaded${later.length ? `; ${later.join(', ')} changed and take effect at the next start` : ''}`);
    } catch (err) {
      logger.error({ signal: 'SIGHUP' }, `SIGHUP, reload failed, keeping the old settings: ${(err as Error).message}`);
    }
  });
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
    if (command === '--version' || command === '-V') {
      const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`keepdav ${version}\n`);
      return 0;
    }
    if (command === 'serve') {
      await serve(rest);
      return -1; // keeps running
    }
    if (command === 'versions' || command === 'restore') return await versionCommand(command, rest);
    if (command === 'trash') return await trash(rest);
    if (command === 'migrate') return await migrateState(rest);
    if ((TASK_NAMES as readonly string[]).includes(command)) return await maintenance(command as TaskName, rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof UnitError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`keepdav: ${(err as Error).message}\nRun "keepdav --help" for the options.\n`);
      return 2;
    }
    if (err instanceof StateInUseError || err instanceof ForeignStateError || err instanceof DamagedStateError) {
      process.stderr.write(`keepdav: ${err.message}\n`);
      return 1;
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
