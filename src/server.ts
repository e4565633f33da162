/**
 * The composition root: opens the state store and the served tree, wires the services, and
 * serves HTTP. `startServer` is what the CLI and the tests call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relative, isAbsolute, resolve, dirname, basename, join } from 'node:path';
import { realpathSync, mkdirSync, existsSync } from 'node:fs';
import type { ServerConfig } from './config';
import { ConfigError } from './config';
import { openStateDatabase, type StateDatabase } from './state/database';
import { IntentJournal } from './state/intentJournal';
import { FileStore } from './storage/fileStore';
import { StorageError, NotFoundError, NotACollectionError } from './storage/storageErrors';
import { LockManager } from './locks/lockManager';
import { SqliteLockStore } from './locks/sqliteLockStore';
import { DeadPropertyStore } from './props/deadPropertyStore';
import { VersionStore } from './versions/versionStore';
import { PathMutex } from './concurrency/pathMutex';
import { TreeOperations } from './methods/support/treeOperations';
import { RetentionStore } from './versions/retention';
import { RetainedBytes } from './storage/retainedBytes';
import { StaleRefusals } from './versions/staleRefusals';
import { METHOD_HANDLERS } from './methods';
import type { Services } from './methods/context';
import { createRequestListener } from './http/edge';
import { sweepStaleTemporaries } from './storage/sweepTemporaries';
import { AccessControl } from './auth/accessControl';
import { assertSafeToServe } from './auth/safeDefault';

/** A temporary untouched this long belongs to no upload in progress (the idle timeout ends stalled ones). */
const STALE_TEMPORARY_MS = 10 * 60 * 1000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
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
  mkdirSync(stateDir, { recursive: true });
}

/**
 * Opens the stores and wires the services. `recover` finishes what a crash interrupted; only the
 * server does that at start-up (the CLI's versions/restore may run beside a live server).
 */
export async function openServices(
  config: ServerConfig,
  options: { recover: boolean; clock?: () => number; log?: (line: string) => void } = { recover: true },
): Promise<{ services: Services; db: StateDatabase }> {
  const clock = options.clock ?? Date.now;
  const access = new AccessControl(config, clock, options.log ?? (() => undefined));
  let store: FileStore;
  try {
    store = await FileStore.open(config.root);
  } catch (err) {
    if (err instanceof NotFoundError) throw new ConfigError(`the root ${config.root} does not exist`);
    if (err instanceof NotACollectionError) throw new ConfigError(`the root ${config.root} is not a directory`);
    if (err instanceof StorageError) throw new ConfigError(`cannot serve ${config.root}: ${err.message}`);
    throw err;
  }
  assertStateOutsideRoot(store.root, config.stateDir);
  const db = openStateDatabase(config.stateDir);
  const locks = new LockManager(new SqliteLockStore(db), clock, config.lockTimeout);
  const props = new DeadPropertyStore(db);
  const versions = new VersionStore(db);
  const retention = new RetentionStore(db, new RetainedBytes(join(config.stateDir, 'retained')), config.retention, clock);
  const tree = new TreeOperations(db, new IntentJournal(db), store, props, versions, locks, retention);
  if (options.recover) await tree.recover();
  const staleRefusals = new StaleRefusals(config.staleDeleteWindowMs, clock);
  const services: Services = { config, store, locks, props, versions, writes: new PathMutex(), tree, retention, staleRefusals, access };
  return { services, db };
}

export async function startServer(
  config: ServerConfig,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  options: { clock?: () => number } = {},
): Promise<RunningServer> {
  assertSafeToServe(config);
  const { services, db } = await openServices(config, { recover: true, clock: options.clock, log });
  const weak = services.access.weakHashWarning();
  if (weak) log(weak);
  const server: Server = createServer(
    {
      // Slow clients cannot pin a connection while sending headers; bodies may take as long as
      // they keep moving (the idle timeout below), so multi-GiB uploads still succeed.
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: 5000,
    },
    createRequestListener(METHOD_HANDLERS, services, log),
  );
  server.setTimeout(config.idleTimeoutMs, (socket) => socket.destroy());
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy(err);
    // node's parser refuses methods it does not know before any handler runs: that is 501 (RFC 9110 §15.6.2).
    const status = err.code === 'HPE_INVALID_METHOD' ? '501 Not Implemented' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nDAV: 1, 2\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // In the background: temporaries a crash left behind (never reachable by URL, but they take space).
  void sweepStaleTemporaries(services.store.root, STALE_TEMPORARY_MS).then(
    (n) => n > 0 && log(`removed ${n} temporary file(s) left by an interrupted upload or copy`),
    (err: Error) => log(`sweeping temporaries failed: ${err.message}`),
  );
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/`,
    port,
    services,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolvePromise) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          db.close();
          resolvePromise();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
