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
import { listTrash } from './versions/trash';
import { StorageError } from './storage/storageErrors';
import { formatHttpDate } from './headers/httpDate';
import type { AccessLevel } from './auth/accessRules';

const HELP = `keepdav: a WebDAV server that never silently loses a write

Usage:
  keepdav serve [options]
  keepdav versions PATH --root DIR [--state DIR]
      list the retained versions of PATH (also of a deleted file), newest first:
      one a line: version id, time retained, size, ETag, why it was retained
  keepdav restore PATH --version ID --root DIR [--state DIR] [--to NEWPATH]
      bring version ID of PATH back (a restore is itself a new version, so it can be undone);
      --to writes it at NEWPATH instead (what is there is retained too)
  keepdav trash DIR --root DIR [--state DIR]
      list what was deleted at or below the collection DIR, newest deletion first: one a line:
      version id, time deleted, size, ETag, path, all version ids of that path

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
  --access-log             log one line per request on stderr
  --lock-token-header      count a Lock-Token header on PUT etc. as a submitted token (Word 2016)
  --hide-lockroot          leave DAV:lockroot out of lock answers (old Office versions)
  --no-stale-check         accept uploads that state an older modification time
                           (default: refuse them with 409 stale-version)
  --case-insensitive       names differing only in case are the same name (409 duplicate-name)
  --retain-versions N      replaced versions kept per path, 0 turns retention off (default: ${DEFAULTS.retention.maxVersionsPerPath})
  --retain-days D          replaced versions older than D days are pruned (default: ${DEFAULTS.retention.maxAgeMs / 86400000})
  --retain-bytes BYTES     total bytes of replaced versions kept (default: ${DEFAULTS.retention.maxBytes})
  --users FILE             htpasswd file of the users who may sign in (make one: htpasswd -cB FILE alice)
  --anonymous LEVEL        what requests without a login may do: none, read or write (default: write
                           on loopback without users, none with users; required on other addresses
                           when there is no --users)
  --read-only              refuse every write (403 read-only)
  --auth-fail-limit N      failed sign-ins per minute from one address before 429 (default: ${DEFAULTS.authFailLimit})
  -h, --help               show this help
`;

class UsageError extends Error {}

function numberOption(name: string, value: string | undefined, allowInfinite = false): number | undefined {
  if (value === undefined) return undefined;
  if (allowInfinite && /^infinite$/i.test(value)) return Infinity;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, not "${value}"`);
  return n;
}

function anonymousOption(value: string | undefined): AccessLevel | undefined {
  if (value === undefined) return undefined;
  if (value !== 'none' && value !== 'read' && value !== 'write') throw new UsageError(`--anonymous takes none, read or write, not "${value}"`);
  return value;
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
      users: { type: 'string' },
      anonymous: { type: 'string' },
      'read-only': { type: 'boolean' },
      'auth-fail-limit': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const idle = numberOption('idle-timeout', values['idle-timeout']);
  const retainDays = numberOption('retain-days', values['retain-days']);
  return {
    root: values.root ?? 'storage',
    stateDir: values.state,
    port: numberOption('port', values.port),
    host: values.host,
    lockTimeout: {
      minSeconds: numberOption('lock-timeout-min', values['lock-timeout-min']),
      maxSeconds: numberOption('lock-timeout-max', values['lock-timeout-max'], true),
      defaultSeconds: numberOption('lock-timeout-default', values['lock-timeout-default']),
    },
    allowPropfindInfinity: values['propfind-infinity'],
    maxXmlBodyBytes: numberOption('max-xml-body', values['max-xml-body']),
    idleTimeoutMs: idle === undefined ? undefined : idle * 1000,
    accessLog: values['access-log'],
    lockTokenHeaderSubmits: values['lock-token-header'],
    hideLockRoot: values['hide-lockroot'],
    staleUploadCheck: values['no-stale-check'] ? false : undefined,
    caseInsensitive: values['case-insensitive'],
    usersFile: values.users,
    anonymous: anonymousOption(values.anonymous),
    readOnly: values['read-only'],
    authFailLimit: numberOption('auth-fail-limit', values['auth-fail-limit']),
    retention: {
      maxVersionsPerPath: numberOption('retain-versions', values['retain-versions']),
      maxAgeMs: retainDays === undefined ? undefined : retainDays * 86400000,
      maxBytes: numberOption('retain-bytes', values['retain-bytes']),
    },
  };
}

/** `versions` and `restore`: the same store the server uses, opened directly. */
async function versionCommand(command: 'versions' | 'restore', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { root: { type: 'string' }, state: { type: 'string' }, version: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one PATH`);
  if (values.root === undefined) throw new UsageError(`${command} needs --root DIR`);
  if (command === 'restore' && values.version === undefined) throw new UsageError('restore needs --version ID');
  const path = davPathFromUrlPath(positionals[0].startsWith('/') ? positionals[0] : '/' + positionals[0]);
  const { services, db } = await openServices(resolveConfig({ root: values.root, stateDir: values.state }), { recover: false });
  try {
    if (command === 'versions') {
      for (const v of services.retention.list(path)) {
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
    db.close();
  }
}

/** `trash DIR`: what was deleted at or below DIR, as GET DIR?trash lists it (newest deletion first). */
async function trash(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { root: { type: 'string' }, state: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('trash takes exactly one DIR');
  if (values.root === undefined) throw new UsageError('trash needs --root DIR');
  const dir = davPathFromUrlPath(positionals[0].startsWith('/') ? positionals[0] : '/' + positionals[0]);
  const { services, db } = await openServices(resolveConfig({ root: values.root, stateDir: values.state }), { recover: false });
  try {
    for (const e of await listTrash(services.retention, dir, async (p) => (await services.store.stat(p)) !== null)) {
      const v = e.newest;
      process.stdout.write(`${v.id}  ${new Date(v.retainedAtMs).toISOString()}  ${v.size}  ${v.etag}  ${e.path}  versions ${e.versionIds.join(',')}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}

async function serve(args: string[]): Promise<void> {
  const config = resolveConfig(serveConfig(args));
  const server = await startServer(config);
  process.stdout.write(`keepdav listening on ${server.url} (root ${config.root}, state ${config.stateDir})\n`);
  const stop = (signal: string) => {
    process.stderr.write(`keepdav: ${signal}, finishing in-flight requests\n`);
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
    if (command === 'trash') return await trash(rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`keepdav: ${(err as Error).message}\nRun "keepdav --help" for the options.\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' || e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      process.stderr.write(`keepdav: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
