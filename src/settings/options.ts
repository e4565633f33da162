/**
 * The one table of `keepdav serve` options. Each row is a long option name, which is also its key
 * in the configuration file (`--config`) and its environment variable (`KEEPDAV_<NAME>`, upper
 * case, "-" as "_"); the CLI's parser and help text are generated from it, so a new option is one
 * row here.
 */
import type { ConfigInput } from '../config';
import type { AccessLevel } from '../auth/accessRules';
import { LOG_FORMATS, LOG_LEVELS } from '../logging/logger';
import { parseSize, parseDuration, UnitError } from '../units';
import { parseFreeSpaceReserve, type FreeSpaceReserve } from '../versions/freeSpaceReserve';
import { isPostgresUrl } from '../state/postgres/stateUrl';

/** A value as given: text from a flag or a variable, or whatever YAML made of it. */
export type RawValue = unknown;

/** Thrown by a row's parser; the loader adds where the value came from. */
export class OptionValueError extends Error {}

export interface OptionRow {
  name: string;
  /** Flags: a boolean takes no value on the command line; every other kind takes one. */
  kind: 'boolean' | 'value';
  /** The value's placeholder in the help ("DIR", "N"). */
  placeholder?: string;
  /** Help text; "\n" continues on the next help line. */
  help: string;
  /** A file path: relative values in a configuration file are taken from the file's directory. */
  isPath?: boolean;
  /** Not allowed in a configuration file (`config` itself). */
  notInFile?: boolean;
  /** Stores the parsed value into the server settings; throws OptionValueError on a bad value. */
  apply(input: ConfigInput, value: RawValue): void;
}

/** A TCP port, 0 (any free one) to 65535. */
function port(value: RawValue): number {
  const n = number(value);
  if (Number.isInteger(n) && n <= 65535) return n;
  throw new OptionValueError(`needs a port from 0 to 65535, not ${JSON.stringify(value)}`);
}

/** `parse`'s value, which must be more than 0. */
function positive(parse: (value: RawValue) => number): (value: RawValue) => number {
  return (value) => {
    const n = parse(value);
    if (n > 0) return n;
    throw new OptionValueError(`needs more than 0, not ${JSON.stringify(value)}`);
  };
}

/** One of `choices`. */
function oneOf<T extends string>(choices: readonly T[]): (value: RawValue) => T {
  return (value) => {
    const chosen = text(value);
    if ((choices as readonly string[]).includes(chosen)) return chosen as T;
    throw new OptionValueError(`takes ${choices.join(', ')}, not ${JSON.stringify(value)}`);
  };
}

function text(value: RawValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new OptionValueError(`needs a text value, not ${JSON.stringify(value)}`);
}

function number(value: RawValue, allowInfinite = false): number {
  if (allowInfinite && (value === Infinity || (typeof value === 'string' && /^infinite$/i.test(value.trim())))) return Infinity;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  throw new OptionValueError(`needs a number${allowInfinite ? ' or "infinite"' : ''}, not ${JSON.stringify(value)}`);
}

export function boolean(value: RawValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|yes|1|on)$/i.test(value.trim())) return true;
  if (typeof value === 'string' && /^(false|no|0|off)$/i.test(value.trim())) return false;
  throw new OptionValueError(`needs true or false, not ${JSON.stringify(value)}`);
}

function list(value: RawValue): string[] {
  const items = Array.isArray(value) ? value.map(text) : text(value).split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function accessLevel(value: RawValue): AccessLevel {
  const level = text(value);
  if (level === 'none' || level === 'read' || level === 'write') return level;
  throw new OptionValueError(`takes none, read or write, not ${JSON.stringify(level)}`);
}

function freeSpaceReserve(value: RawValue): FreeSpaceReserve {
  const reserve = parseFreeSpaceReserve(text(value));
  if (reserve === null) throw new OptionValueError(`needs a size (512MiB, 2G, bytes) or a share (1%), not ${JSON.stringify(value)}`);
  return reserve;
}

/** A size with an optional unit (512MB, 10GiB; a plain number is bytes). */
function size(value: RawValue): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  try {
    return parseSize('', text(value));
  } catch (err) {
    if (err instanceof UnitError) throw new OptionValueError(`needs a size such as 1048576, 512MB or 10GiB, not ${JSON.stringify(value)}`);
    throw err;
  }
}

/** A duration in ms with an optional unit (90s, 12h, 30d); a plain number counts in `plainUnitMs`. */
function duration(value: RawValue, plainUnitMs: number, allowInfinite = false): number {
  if (allowInfinite && (value === Infinity || (typeof value === 'string' && /^infinite$/i.test(value.trim())))) return Infinity;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * plainUnitMs;
  try {
    return parseDuration('', text(value), plainUnitMs);
  } catch (err) {
    if (err instanceof UnitError) throw new OptionValueError(`needs a duration such as 90s, 12h or 30d${allowInfinite ? ' or "infinite"' : ''}, not ${JSON.stringify(value)}`);
    throw err;
  }
}

const tlsOf = (input: ConfigInput) => (input.tls ??= { certFile: '', keyFile: '' });

export const SERVE_OPTIONS: readonly OptionRow[] = [
  { name: 'config', kind: 'value', placeholder: 'FILE', notInFile: true, help: 'read settings from this YAML file (keys are the long option names)', apply: () => {} },
  { name: 'root', kind: 'value', placeholder: 'DIR', isPath: true, help: 'directory to serve (default: ./storage)', apply: (c, v) => (c.root = text(v)) },
  { name: 'state', kind: 'value', placeholder: 'DIR|URL', isPath: true, help: 'where locks, dead properties and versions are kept\n(default: DIR.keepdav-state beside the root; never inside it);\npostgres://user@host/db shares them between instances (README, Several instances)', apply: (c, v) => (isPostgresUrl(text(v)) ? (c.stateUrl = text(v)) : (c.stateDir = text(v))) },
  { name: 'state-dir', kind: 'value', placeholder: 'DIR', isPath: true, help: 'the local state directory (retained bytes, admin.json) when --state is a\npostgres:// URL: the same directory for every instance, on the shared\nfilesystem of the root (default: DIR.keepdav-state beside the root)', apply: (c, v) => (c.stateDir = text(v)) },
  { name: 'port', kind: 'value', placeholder: 'N', help: 'TCP port; 0 picks a free one (default: 8080)', apply: (c, v) => (c.port = port(v)) },
  { name: 'host', kind: 'value', placeholder: 'ADDR', help: 'address to listen on (default: 127.0.0.1)', apply: (c, v) => (c.host = text(v)) },
  { name: 'tls-cert', kind: 'value', placeholder: 'FILE', isPath: true, help: 'serve HTTPS with this PEM certificate (intermediates after it)', apply: (c, v) => (tlsOf(c).certFile = text(v)) },
  { name: 'tls-key', kind: 'value', placeholder: 'FILE', isPath: true, help: "the certificate's PEM private key (SIGHUP reloads both)", apply: (c, v) => (tlsOf(c).keyFile = text(v)) },
  { name: 'base-path', kind: 'value', placeholder: 'PATH', help: 'answer under this URL prefix, e.g. /dav/ (default: /)', apply: (c, v) => (c.basePath = text(v)) },
  { name: 'trust-proxy', kind: 'value', placeholder: 'ADDR,...', help: 'believe Forwarded / X-Forwarded-* from these addresses or CIDR ranges\n(e.g. 127.0.0.1,::1 or 10.0.0.0/8; "loopback" for both loopbacks)', apply: (c, v) => (c.trustProxy = list(v)) },
  { name: 'users', kind: 'value', placeholder: 'FILE', isPath: true, help: 'htpasswd file of the users who may sign in (make one: htpasswd -cB FILE alice)', apply: (c, v) => (c.usersFile = text(v)) },
  { name: 'anonymous', kind: 'value', placeholder: 'LEVEL', help: 'what requests without a login may do: none, read or write (default: write\non loopback without users, none with users; required on other addresses\nwhen there is no --users)', apply: (c, v) => (c.anonymous = accessLevel(v)) },
  { name: 'read-only', kind: 'boolean', help: 'refuse every write (403 read-only)', apply: (c, v) => (c.readOnly = boolean(v)) },
  { name: 'auth-fail-limit', kind: 'value', placeholder: 'N', help: 'failed sign-ins per minute from one address before 429 (default: 10)', apply: (c, v) => (c.authFailLimit = number(v)) },
  { name: 'lock-timeout-min', kind: 'value', placeholder: 'S', help: 'floor for granted lock timeouts, seconds or a duration (default: 1)', apply: (c, v) => ((c.lockTimeout ??= {}).minSeconds = duration(v, 1000) / 1000) },
  { name: 'lock-timeout-max', kind: 'value', placeholder: 'S', help: 'ceiling for granted lock timeouts, seconds, or "infinite" (default: 604800, 7 days)', apply: (c, v) => ((c.lockTimeout ??= {}).maxSeconds = duration(v, 1000, true) / 1000) },
  { name: 'lock-timeout-default', kind: 'value', placeholder: 'S', help: 'timeout granted when the client asks none (default: 3600)', apply: (c, v) => ((c.lockTimeout ??= {}).defaultSeconds = duration(v, 1000) / 1000) },
  { name: 'propfind-infinity', kind: 'boolean', help: 'answer PROPFIND with Depth: infinity (default: 403 propfind-finite-depth)', apply: (c, v) => (c.allowPropfindInfinity = boolean(v)) },
  { name: 'max-xml-body', kind: 'value', placeholder: 'BYTES', help: 'largest XML request body (default: 1048576)', apply: (c, v) => (c.maxXmlBodyBytes = positive(size)(v)) },
  { name: 'idle-timeout', kind: 'value', placeholder: 'S', help: 'close connections idle this long (default: 120)', apply: (c, v) => (c.idleTimeoutMs = positive((x) => duration(x, 1000))(v)) },
  { name: 'access-log', kind: 'boolean', help: 'accepted for compatibility: the access log is always on', apply: (c, v) => (c.accessLog = boolean(v)) },
  { name: 'log-format', kind: 'value', placeholder: 'FORMAT', help: 'json (default: one JSON object a line) or pretty', apply: (c, v) => ((c.log ??= {}).format = oneOf(LOG_FORMATS)(v)) },
  { name: 'log-level', kind: 'value', placeholder: 'LEVEL', help: 'fatal, error, warn, info (default), debug, trace or silent', apply: (c, v) => ((c.log ??= {}).level = oneOf(LOG_LEVELS)(v)) },
  { name: 'log-file', kind: 'value', placeholder: 'FILE', isPath: true, help: 'append the log to FILE instead of stderr (SIGHUP reopens it)', apply: (c, v) => ((c.log ??= {}).file = text(v)) },
  { name: 'admin-users', kind: 'value', placeholder: 'FILE', isPath: true, help: 'htpasswd file of who may read /metrics and run /tasks on the admin listener\n(with it, the admin listener may listen on any address)', apply: (c, v) => (c.adminUsersFile = text(v)) },
  { name: 'admin-listen', kind: 'value', placeholder: 'ADDR:PORT', help: 'metrics, /healthz, /readyz and /tasks on a loopback address (default: off)', apply: (c, v) => (c.adminListen = text(v)) },
  { name: 'lock-token-header', kind: 'boolean', help: 'count a Lock-Token header on PUT etc. as a submitted token (Word 2016)', apply: (c, v) => (c.lockTokenHeaderSubmits = boolean(v)) },
  { name: 'hide-lockroot', kind: 'boolean', help: 'leave DAV:lockroot out of lock answers (old Office versions)', apply: (c, v) => (c.hideLockRoot = boolean(v)) },
  { name: 'no-stale-check', kind: 'boolean', help: 'accept uploads that state an older modification time\n(default: refuse them with 409 stale-version)', apply: (c, v) => (c.staleUploadCheck = !boolean(v)) },
  { name: 'uploads-beside-target', kind: 'boolean', help: 'make each upload\'s temporary file in its target\'s folder, not in the state\ndirectory\'s uploads/ (for folders whose default ACL new files must get)', apply: (c, v) => (c.uploadsBesideTarget = boolean(v)) },
  { name: 'no-listing-cache', kind: 'boolean', help: 'read every listing from the disk (default: keep a folder\'s listing while inotify\nreports no change in it, for a second at most; README, PROPFIND)', apply: (c, v) => (c.keepListings = !boolean(v)) },
  { name: 'case-insensitive', kind: 'boolean', help: 'names differing only in case are the same name (409 duplicate-name)', apply: (c, v) => (c.caseInsensitive = boolean(v)) },
  { name: 'retain-versions', kind: 'value', placeholder: 'N', help: 'replaced versions kept per path, 0 turns retention off (default: 10)', apply: (c, v) => ((c.retention ??= {}).maxVersionsPerPath = number(v)) },
  { name: 'retain-days', kind: 'value', placeholder: 'D', help: 'replaced versions older than D days are pruned, or a duration such as 12h (default: 30)', apply: (c, v) => ((c.retention ??= {}).maxAgeMs = duration(v, 86400000)) },
  { name: 'retain-bytes', kind: 'value', placeholder: 'BYTES', help: 'total bytes of replaced versions kept, or a size such as 10GiB (default: 10GiB)', apply: (c, v) => ((c.retention ??= {}).maxBytes = size(v)) },
  { name: 'min-free', kind: 'value', placeholder: 'SIZE', help: 'free space retention never takes: 512MiB, 2G, bytes, or 1% of the disk;\nbelow it the oldest versions are pruned (default: 1%, at most 256 MiB)', apply: (c, v) => ((c.retention ??= {}).minFree = freeSpaceReserve(v)) },
  { name: 'new-state', kind: 'boolean', help: 'start afresh when the state database is missing or belongs to\nanother root (the old state is moved aside; default: refuse)', apply: (c, v) => (c.newState = boolean(v)) },
];

/** `KEEPDAV_TLS_CERT` for `tls-cert`. */
export function environmentName(option: string): string {
  return 'KEEPDAV_' + option.toUpperCase().replace(/-/g, '_');
}

/** The "Options for serve" part of the help, one row per option. */
export function optionsHelp(rows: readonly OptionRow[] = SERVE_OPTIONS): string {
  const width = 27;
  return rows
    .map((row) => {
      const flag = `  --${row.name}${row.placeholder ? ' ' + row.placeholder : ''}`;
      const [first, ...rest] = row.help.split('\n');
      const lead = flag.length < width ? flag.padEnd(width) + first : flag + '\n' + ' '.repeat(width) + first;
      return [lead, ...rest.map((line) => ' '.repeat(width) + line)].join('\n');
    })
    .join('\n');
}
