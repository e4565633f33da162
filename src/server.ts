/**
 * The composition root: opens the state store and the served tree, wires the services, and
 * serves HTTP. `startServer` is what the CLI and the tests call.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { relative, isAbsolute, resolve, dirname, basename, join } from 'node:path';
import { realpathSync, mkdirSync, existsSync } from 'node:fs';
import { releaseBallastSync } from './storage/spaceBallast';
import type { ServerConfig } from './config';
import { ConfigError } from './config';
import type { StateDatabase } from './state/database';
import { openCheckedDatabase, withDamageCheck, isDamage, DamagedStateError, refuseUnwritable, STATE_DATABASE_FILE } from './state/openCheckedDatabase';
import { acquireStateOwnership, type StateOwnership } from './state/stateOwnership';
import { rootStateMismatch, abandonState, bindStateToRoot, ForeignStateError } from './state/rootIdentity';
import { FileStore } from './storage/fileStore';
import type { ResourceStore } from './storage/resourceStore';
import { StorageError, NotFoundError, NotACollectionError } from './storage/storageErrors';
import { LockManager } from './locks/lockManager';
import { DigestCompletion } from './versions/digestCompletion';
import { VersionStore } from './versions/versionStore';
import type { StateStore } from './state/stateStore';
import { SqliteStateStore } from './state/sqlite/sqliteStateStore';
import { TreeOperations } from './methods/support/treeOperations';
import { RetentionStore } from './versions/retention';
import { CleanupGuard } from './versions/cleanupGuard';
import { METHOD_HANDLERS } from './methods';
import type { Services } from './methods/context';
import { answerClientError, answerConnect, createRequestListener } from './http/edge';
import { RequestsInFlight } from './http/requestsInFlight';
import { continueOnFirstRead } from './http/expectContinue';
import { AccessControl } from './auth/accessControl';
import { assertSafeToServe } from './auth/safeDefault';
import { readTlsFiles } from './http/tlsFiles';
import { silentLogger, lineLogger, type Logger } from './logging/logger';
import { accessLog } from './logging/accessLog';
import { listenOrExplain } from './http/listen';
import { startServices, type ServiceExtras } from './admin/serviceExtras';

/** With the single owner established, every temporary found at start is an orphan of a crash. */
const EVERY_TEMPORARY = -Infinity;

/**
 * Several instances share the root and the state directory: another one's upload may be under
 * way, and its temporary is written to at least once per idle timeout or its connection closes.
 * Only temporaries untouched for twice that (and at least a minute) are orphans.
 */
function orphanedTemporaryAgeMs(config: ServerConfig): number {
  return config.stateUrl === null ? EVERY_TEMPORARY : Math.max(2 * config.idleTimeoutMs, 60_000);
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  /**
   * Applies what may change while running (SIGHUP): re-reads the TLS certificate and key (of `next`,
   * default the current settings) for new connections; connections in flight are not touched.
   * Throws ConfigError, keeping the old settings, when the new ones cannot be used.
   */
  reload(next?: ServerConfig): void;
  /** The admin listener's URL (metrics, health, tasks), or null when off. */
  readonly adminUrl: string | null;
  /** The maintenance tasks (scrub, prune, reindex): one at a time. */
  readonly tasks: ServiceExtras['tasks'];
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes the state store. */
  close(graceMs?: number): Promise<void>;
}

/** The real path `dir` has or would have: its nearest existing ancestor resolved, the rest appended. */
function realpathToBe(dir: string): string {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(at)) return join(realpathSync(at), ...missing.reverse());
    missing.push(basename(at));
    if (dirname(at) === at) return resolve(dir);
  }
}

/** Refuses a state directory inside the served root (it must never be reachable by URL), before creating it. */
function assertStateOutsideRoot(root: string, stateDir: string): void {
  const rel = relative(root, realpathToBe(stateDir));
  const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  if (inside) {
    throw new ConfigError(`the state directory ${stateDir} lies inside the served root ${root}; put it outside, so it can never be reached by URL`);
  }
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (err) {
    throw new ConfigError(`--state ${stateDir}: cannot create the state directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}


export interface OpenOptions {
  /** Finish what a crash interrupted (only the owner of the state may). */
  recover: boolean;
  /** Take the state directory (src/state/stateOwnership.ts) and check it belongs to the root; the server and the CLI's restore do. */
  own?: boolean;
  /** Refuse a state that does not exist yet instead of making it (the CLI's commands; readers always). */
  existing?: boolean;
  clock?: () => number;
  log?: (line: string) => void;
}

/**
 * Opens the stores and wires the services. `recover` finishes what a crash interrupted; only the
 * owner of the state does that at start-up (the CLI's versions may run beside a live server).
 */
export async function openServices(config: ServerConfig, options: OpenOptions = { recover: true, own: true }): Promise<{ services: Services; state: StateStore; ownership: StateOwnership | null }> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? (() => undefined);
  const access = new AccessControl(config, clock, log);
  // The CLI's commands never make a state: with a wrong --state, versions would say "no versions",
  // a restore "no such version", and leave an empty database (a restore also marking the root with
  // it) that the server then refuses as another root's.
  if ((!options.own || options.existing) && config.stateUrl === null && !existsSync(join(config.stateDir, STATE_DATABASE_FILE))) {
    throw new ConfigError(`there is no state database in ${config.stateDir}: give --state (and --root) as the server has them`);
  }
  let store: FileStore;
  try {
    const uploadsDir = config.uploadsBesideTarget ? undefined : join(config.stateDir, 'uploads');
    // Only the owner of an embedded state writes its kept bytes; instances sharing PostgreSQL share them too.
    const soleWriterOfKept = config.stateUrl === null && options.own === true;
    store = await FileStore.open(config.root, join(config.stateDir, 'retained'), { uploadsDir, soleWriterOfKept, listingCache: config.keepListings ? undefined : null });
  } catch (err) {
    if (err instanceof NotFoundError) throw new ConfigError(`the root ${config.root} does not exist`);
    if (err instanceof NotACollectionError) throw new ConfigError(`the root ${config.root} is not a directory`);
    if (err instanceof StorageError) throw new ConfigError(`cannot serve ${config.root}: ${err.message}`);
    throw err;
  }
  assertStateOutsideRoot(store.root, config.stateDir);
  // Several instances, one PostgreSQL database: leases instead of one owner (src/state/postgres/sharedState.ts).
  // Loaded only then: the PostgreSQL client is of no use to an embedded state (and costs ~15 MiB).
  if (config.stateUrl !== null) return (await import('./state/postgres/sharedState')).openSharedServices(config, store.root, options.recover, log, (state) => wireServices(config, store, state, access, log));
  const ownership = options.own ? acquireStateOwnership(config.stateDir, () => releaseBallastSync(config.stateDir)) : null;
  let db: StateDatabase | null = null;
  let state: StateStore | null = null;
  try {
    db = openOwnedDatabase(config, store.root, ownership !== null, log);
    const opened = db;
    state = withDamageCheck(config.stateDir, () => new SqliteStateStore(opened, { clock, refusalKeepMs: config.staleDeleteWindowMs }));
    const services = wireServices(config, store, state, access, log);
    if (options.recover) await services.tree.recover();
    return { services, state, ownership };
  } catch (err) {
    if (state) await state.close();
    else db?.close();
    ownership?.release();
    if (isDamage(err)) throw new DamagedStateError(join(config.stateDir, STATE_DATABASE_FILE), (err as Error).message);
    throw err;
  }
}

/** Opens the state database; the owner also checks it belongs to the root (or starts afresh with --new-state). */
function openOwnedDatabase(config: ServerConfig, rootHost: string, owner: boolean, log: (line: string) => void): StateDatabase {
  const hadDatabase = existsSync(join(config.stateDir, STATE_DATABASE_FILE));
  let db = openCheckedDatabase(config.stateDir);
  if (!owner) {
    const mismatch = withDamageCheck(config.stateDir, () => rootStateMismatch(rootHost, config.stateDir, db, hadDatabase));
    if (mismatch === null) return db;
    db.close();
    throw new ConfigError(mismatch);
  }
  refuseUnwritable(config.stateDir, db);
  const mismatch = withDamageCheck(config.stateDir, () => rootStateMismatch(rootHost, config.stateDir, db, hadDatabase));
  if (mismatch !== null) {
    if (!config.newState) {
      db.close();
      throw new ForeignStateError(mismatch);
    }
    db.close();
    const aside = abandonState(config.stateDir);
    log(`--new-state: ${mismatch}; starting afresh${aside ? ` (the old state is in ${aside})` : ''}`);
    db = openCheckedDatabase(config.stateDir);
  }
  bindStateToRoot(rootHost, db, log);
  return db;
}

/** The policies over the state store (src/state/stateStore.ts) and the file store. */
function wireServices(config: ServerConfig, store: ResourceStore, state: StateStore, access: AccessControl, log: (line: string) => void): Services {
  const locks = new LockManager(state.locks, config.lockTimeout);
  // A large upload's digests are read back after the answer (digestCompletion.ts).
  const digestCompletion = new DigestCompletion((path, signal) => store.readBackDigests(path, signal), state.versions, log);
  const versions = new VersionStore(state.versions, (path, etag, f) => digestCompletion.enqueue(path, etag, f));
  const retention = new RetentionStore(state, store, config.retention);
  const tree = new TreeOperations(state, store, retention, log);
  const cleanupGuard = new CleanupGuard(state, config.staleDeleteWindowMs);
  return { config, store, state, locks, versions, digestCompletion, tree, retention, cleanupGuard, access };
}

/**
 * Serves `config`. Logs go to `logger` (tests pass a silent one; a function receives JSON lines).
 */
export async function startServer(
  config: ServerConfig,
  logger: Logger | ((line: string) => void) = silentLogger(),
  options: { clock?: () => number } = {},
): Promise<RunningServer> {
  const log = typeof logger === 'function' ? lineLogger(logger) : logger;
  const logLine = (line: string) => log.info(line);
  assertSafeToServe(config);
  const tls = config.tls ? readTlsFiles(config.tls) : null;
  const { services, state, ownership } = await openServices(config, { recover: true, own: true, clock: options.clock, log: logLine });
  const weak = services.access.weakHashWarning();
  if (weak) log.warn(weak);
  let extras: ServiceExtras;
  try {
    // Temporaries a crash left in the served tree go before anyone can be served (never reachable by URL, but they take space).
    const swept = await services.store.sweepTemporaries(orphanedTemporaryAgeMs(config));
    if (swept > 0) log.info({ removed: swept }, `removed ${swept} temporary file(s) left by an interrupted upload or copy`);
    const { keptByCopy } = await services.store.readyForWrites();
    if (keptByCopy) log.warn(`the state directory ${config.stateDir} is not on the root's filesystem and mount: every version retained will be a full copy, not a hard link or rename (put both in one directory of one mount; README "What is stored where")`);
    extras = startServices(services, log);
  } catch (err) {
    await state.close();
    ownership?.release();
    throw err;
  }
  const serverOptions = {
    // Slow clients cannot pin a connection while sending headers; bodies may take as long as
    // they keep moving (the idle timeout below), so multi-GiB uploads still succeed.
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: 5000,
  };
  const inFlight = new RequestsInFlight();
  const listener = createRequestListener(METHOD_HANDLERS, services, log, [accessLog(log), inFlight, ...extras.observers]);
  const server: Server | HttpsServer = tls ? createHttpsServer({ ...serverOptions, ...tls }, listener) : createServer(serverOptions, listener);
  server.setTimeout(config.idleTimeoutMs, (socket) => socket.destroy());
  server.on('clientError', answerClientError);
  server.on('connect', answerConnect);
  // Expect: 100-continue answered when the body is first read, so refusals come before the body.
  server.on('checkContinue', continueOnFirstRead(listener));

  let adminUrl: string | null = null;
  try {
    await listenOrExplain(server, config.host, config.port, { host: '--host', port: '--port' });
    adminUrl = await extras.listen();
  } catch (err) {
    server.close();
    await extras.close();
    await state.close();
    ownership?.release();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}${config.basePath}/`;
  ownership?.recordUrl(url, tls?.fingerprint256);

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    services,
    reload(next = config) {
      if (Boolean(next.tls) !== Boolean(config.tls)) throw new ConfigError('switching between HTTP and HTTPS takes a restart');
      const material = next.tls ? readTlsFiles(next.tls) : null;
      services.access.reconfigure(next);
      if (material) {
        (server as HttpsServer).setSecureContext(material);
        ownership?.recordUrl(url, material.fingerprint256);
      }
    },
    adminUrl,
    tasks: extras.tasks,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolvePromise) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          // The connections are gone; their requests' 'close' (and access lines, and handlers' last
          // state calls) follow within a turn or two: wait for them, before the state closes.
          void inFlight.settled(1000).then(() => extras.close()).finally(async () => {
            await state.close().catch(() => undefined);
            ownership?.release();
            resolvePromise();
          });
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
