/**
 * Typed, validated server settings. The CLI (src/cli.ts) and tests build a ServerConfig with
 * `resolveConfig`, which fills defaults and throws ConfigError on a value that cannot work.
 */
import { resolve } from 'node:path';
import { parseAccessRules, type AccessLevel, type AccessRule } from './auth/accessRules';
import { normalizeBasePath } from './paths/basePath';
import { checkTrustedProxies } from './http/proxyTrust';
import { DEFAULT_RESERVE, type FreeSpaceReserve } from './versions/freeSpaceReserve';
import { LOG_FORMATS, LOG_LEVELS, type LogSettings } from './logging/logger';
import { parseListenAddress } from './admin/listenAddress';
import { redactUrl } from './state/postgres/stateUrl';

export interface LockTimeoutSettings {
  /** Floor for granted lock timeouts, seconds (Office asks 120 s but needs longer). */
  minSeconds: number;
  /** Ceiling for granted lock timeouts, seconds (default 7 days); Infinity (opt-in) grants "Infinite" when asked. */
  maxSeconds: number;
  /** Granted when the client asks for none. */
  defaultSeconds: number;
}

export interface RetentionSettings {
  /** Newest replaced versions kept per path; 0 turns retention off. */
  maxVersionsPerPath: number;
  /** Replaced versions older than this are pruned, ms. */
  maxAgeMs: number;
  /** Total bytes of replaced versions kept; the oldest go first beyond it. */
  maxBytes: number;
  /** Free space retention leaves on its filesystem (`--min-free`); the oldest versions go first below it. */
  minFree: FreeSpaceReserve;
}

export interface ServerConfig {
  /** The served directory. */
  root: string;
  /** Where locks, dead properties and versions are kept (never reachable by URL). */
  stateDir: string;
  /**
   * A postgres:// URL: locks, dead properties, version records, the journal and the retention
   * index live in that database, shared by several instances (src/state/postgres/); `stateDir`
   * then holds only the retained bytes and must be on the root's shared filesystem. null: SQLite in `stateDir`.
   */
  stateUrl: string | null;
  host: string;
  port: number;
  lockTimeout: LockTimeoutSettings;
  /** Answer PROPFIND Depth: infinity instead of 403 propfind-finite-depth (RFC 4918 §9.1). */
  allowPropfindInfinity: boolean;
  /** Largest XML request body, bytes (413 beyond). */
  maxXmlBodyBytes: number;
  maxXmlElements: number;
  maxXmlDepth: number;
  /** Time allowed to receive all request headers, ms (slow-loris guard). */
  headersTimeoutMs: number;
  /** A connection with no traffic for this long is closed, ms; uploads that keep moving are never cut. */
  idleTimeoutMs: number;
  /** Print one line per request on stderr. */
  accessLog: boolean;
  /** Refuse PUTs that state an older modification time than the stored one (409 stale-version). */
  staleUploadCheck: boolean;
  /** Make every upload's temporary beside its target, never in the state directory's uploads/ (storage/uploadsDirectory.ts). */
  uploadsBesideTarget: boolean;
  /** Keep read-only listings between requests while inotify sees no change (storage/listingCache.ts); false: read every one from the disk. */
  keepListings: boolean;
  /** How long after a refused upload the same client's unconditional DELETE is refused (and its re-creation judged against what it deleted), ms. */
  staleDeleteWindowMs: number;
  /** Names that differ only in case are the same name (409 duplicate-name on create). */
  caseInsensitive: boolean;
  retention: RetentionSettings;
  /** Count a `Lock-Token` header on PUT/PROPPATCH/DELETE/... as a submitted lock token (Word 2016 sends it). */
  lockTokenHeaderSubmits: boolean;
  /** Leave DAV:lockroot out of lock answers (for old Office versions that trip over it). */
  hideLockRoot: boolean;
  /** The htpasswd file users sign in from (`--users`, config key `users`); null: nobody signs in. */
  usersFile: string | null;
  /** Who may do what where (config key `access`); see src/auth/accessRules.ts. */
  access: AccessRule[];
  /** What anonymous requests may do (`--anonymous`); null: write without users on loopback, none with users. */
  anonymous: AccessLevel | null;
  /** Refuse every write method (`--read-only`). */
  readOnly: boolean;
  /** Failed sign-ins per minute from one address before it is answered 429 (`--auth-fail-limit`). */
  authFailLimit: number;
  /** Serve HTTPS with this PEM certificate (chain included) and key; plain HTTP when absent. */
  tls?: TlsFiles;
  /** The URL prefix keepdav answers under ("" for none, else "/dav": leading "/", no trailing "/"). */
  basePath: string;
  /** Peers (addresses or CIDR ranges) whose Forwarded / X-Forwarded-* headers are believed. */
  trustProxy: string[];
  /** Start afresh when the state database is missing or belongs to another root (src/state/rootIdentity.ts). */
  newState: boolean;
  /** Log format, level and file (src/logging/logger.ts). */
  log: LogSettings;
  /** The admin listener (metrics, health, maintenance tasks) as "ADDR:PORT", loopback only; null: off. */
  adminListen: string | null;
  /** htpasswd file of who may read metrics and run tasks on the admin listener; null: no login (loopback only). */
  adminUsersFile: string | null;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULTS: Omit<ServerConfig, 'root' | 'stateDir'> = {
  host: '127.0.0.1',
  port: 8080,
  // A client that asks Infinite (WinSCP) and vanishes must not lock a file forever: 7 days by default.
  lockTimeout: { minSeconds: 1, maxSeconds: 7 * 24 * 3600, defaultSeconds: 3600 },
  allowPropfindInfinity: false,
  maxXmlBodyBytes: 1024 * 1024,
  maxXmlElements: 10000,
  maxXmlDepth: 64,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  accessLog: false,
  staleUploadCheck: true,
  uploadsBesideTarget: false,
  keepListings: true,
  staleDeleteWindowMs: 60_000,
  caseInsensitive: false,
  lockTokenHeaderSubmits: false,
  hideLockRoot: false,
  usersFile: null,
  access: [],
  anonymous: null,
  readOnly: false,
  authFailLimit: 10,
  basePath: '',
  trustProxy: [],
  newState: false,
  stateUrl: null,
  retention: { maxVersionsPerPath: 10, maxAgeMs: 30 * 24 * 3600 * 1000, maxBytes: 10 * 1024 ** 3, minFree: DEFAULT_RESERVE },
  log: { format: 'json', level: 'info', file: null },
  adminListen: null,
  adminUsersFile: null,
};

export type ConfigInput = Partial<Omit<ServerConfig, 'lockTimeout' | 'retention' | 'access' | 'log'>> & {
  root: string;
  log?: Partial<LogSettings>;
  lockTimeout?: Partial<LockTimeoutSettings>;
  retention?: Partial<RetentionSettings>;
  /** Access rules as written (who may be one name or a list); validated by parseAccessRules. */
  access?: ReadonlyArray<Omit<AccessRule, 'who'> & { who: string | readonly string[] }>;
};

/** Fills defaults and validates; throws ConfigError naming the bad setting. */
export function resolveConfig(input: ConfigInput): ServerConfig {
  const root = resolve(input.root);
  const config: ServerConfig = {
    ...DEFAULTS,
    ...stripUndefined(input),
    root,
    stateDir: resolve(input.stateDir ?? `${root}.keepdav-state`),
    lockTimeout: { ...DEFAULTS.lockTimeout, ...stripUndefined(input.lockTimeout ?? {}) },
    retention: { ...DEFAULTS.retention, ...stripUndefined(input.retention ?? {}) },
    access: parseAccessRules(input.access, 'the configuration'),
    log: { ...DEFAULTS.log, ...stripUndefined(input.log ?? {}) },
  };
  config.usersFile = config.usersFile === null ? null : resolve(config.usersFile);
  if (config.anonymous !== null && !['none', 'read', 'write'].includes(config.anonymous)) throw new ConfigError(`anonymous must be none, read or write, not ${String(config.anonymous)}`);
  if (!Number.isInteger(config.authFailLimit) || config.authFailLimit < 1) throw new ConfigError('auth-fail-limit must be a whole number, 1 or more');
  const { minSeconds, maxSeconds, defaultSeconds } = config.lockTimeout;
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new ConfigError(`port must be 0-65535, not ${config.port}`);
  if (!(minSeconds >= 1)) throw new ConfigError('lock timeout floor must be at least 1 second');
  if (!(maxSeconds >= minSeconds)) throw new ConfigError('lock timeout ceiling must not be below the floor');
  if (!(defaultSeconds >= minSeconds && defaultSeconds <= maxSeconds)) throw new ConfigError('default lock timeout must lie between floor and ceiling');
  const { maxVersionsPerPath, maxAgeMs, maxBytes } = config.retention;
  if (!Number.isInteger(maxVersionsPerPath) || maxVersionsPerPath < 0) throw new ConfigError('retained versions per path must be a whole number, 0 or more');
  if (!(maxAgeMs > 0) || !(maxBytes >= 0)) throw new ConfigError('retention age must be positive and retention bytes 0 or more');
  try {
    config.basePath = normalizeBasePath(config.basePath);
    checkTrustedProxies(config.trustProxy);
  } catch (err) {
    if (err instanceof RangeError) throw new ConfigError(err.message);
    throw err;
  }
  if (config.stateUrl !== null) checkStateUrl(config.stateUrl);
  if (config.tls && (!config.tls.certFile || !config.tls.keyFile)) throw new ConfigError('--tls-cert and --tls-key go together: give both');
  if (config.tls) config.tls = { certFile: resolve(config.tls.certFile), keyFile: resolve(config.tls.keyFile) };
  for (const key of ['maxXmlBodyBytes', 'maxXmlElements', 'maxXmlDepth', 'headersTimeoutMs', 'idleTimeoutMs'] as const) {
    if (!Number.isFinite(config[key]) || config[key] <= 0) throw new ConfigError(`${key} must be a positive number`);
  }
  if (!(LOG_FORMATS as readonly string[]).includes(config.log.format)) throw new ConfigError(`--log-format must be ${LOG_FORMATS.join(' or ')}, not "${config.log.format}"`);
  if (!(LOG_LEVELS as readonly string[]).includes(config.log.level)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${config.log.level}"`);
  if (config.log.file !== null) config.log.file = resolve(config.log.file);
  if (config.adminListen !== null) {
    const parsed = parseListenAddress(config.adminListen, config.adminUsersFile !== null);
    if (typeof parsed === 'string') throw new ConfigError(`--admin-listen ${config.adminListen}: ${parsed}`);
  }
  return config;
}

/** A postgres:// URL must parse and name a host and a database (RFC 3986 syntax, libpq's URI form). */
function checkStateUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--state ${redactUrl(url)}: not a valid postgres:// URL`);
  }
  const socketHost = parsed.searchParams.get('host');
  if (!parsed.hostname && !socketHost) throw new ConfigError(`--state ${redactUrl(url)}: the URL names no host (postgres://user@host/db)`);
  if (parsed.pathname.replace(/^\//, '') === '') throw new ConfigError(`--state ${redactUrl(url)}: the URL names no database (postgres://user@host/db)`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
