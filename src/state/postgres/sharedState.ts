/**
 * The shared state at the composition root (server.ts), for `--state postgres://`. What the
 * embedded state does with one owner, several instances do with the database:
 *
 * - Ownership: no exclusive owner. Every instance holds a lease (lease.ts); a dead instance's
 *   journaled intents are recovered by a live one, at its start and then within the lease time.
 * - Root identity: one row `root_id` in state_meta and the root's marker file (rootIdentity.ts):
 *   a root that had another state, or a database that belongs to another root, is refused. The
 *   first instance to start on an empty database binds it; those starting beside it agree.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../../config';
import type { StateStore } from '../stateStore';
import { ROOT_MARKER } from '../rootIdentity';
import { PostgresStateStore } from './postgresStateStore';
import { redactUrl } from './stateUrl';

/** The root and the database do not belong together. */
export class SharedStateMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SharedStateMismatchError';
  }
}

/** What recovers the work of one instance through a view of the state (TreeOperations over it). */
export type RecoveryFor = (state: StateStore) => { recover(): Promise<unknown> };

function readMarker(rootHost: string): string | null {
  try {
    return readFileSync(join(rootHost, ROOT_MARKER), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeMarker(rootHost: string, id: string, log: (line: string) => void): void {
  const marker = join(rootHost, ROOT_MARKER);
  try {
    writeFileSync(`${marker}.${process.pid}.tmp`, id + '\n');
    renameSync(`${marker}.${process.pid}.tmp`, marker);
  } catch (err) {
    log(`cannot mark the root ${rootHost} with its state id (${(err as Error).message}); a lost state will not be detected`);
  }
}

/** Checks (or makes) the tie between the root and the database; throws SharedStateMismatchError. */
async function bindSharedRoot(store: PostgresStateStore, config: ServerConfig, rootHost: string, log: (line: string) => void): Promise<void> {
  const url = redactUrl(config.stateUrl ?? '');
  const marker = readMarker(rootHost);
  const stored = await store.meta('root_id');
  if (stored !== null && marker !== null && stored !== marker) {
    throw new SharedStateMismatchError(`the state database ${url} belongs to another root than ${rootHost}; give this root its own database (or the one it used)`);
  }
  if (stored === null && marker !== null && !config.newState) {
    throw new SharedStateMismatchError(`the root ${rootHost} had a state, but the database ${url} has none (a new database, or another --state); start with --new-state to begin with an empty state`);
  }
  const id = stored ?? (await store.claimMeta('root_id', randomUUID()));
  if (stored === null && marker !== null) log(`--new-state: the root ${rootHost} is bound to the empty database ${url}`);
  if (marker !== id) writeMarker(rootHost, id, log);
}

/** Opens the shared store, checks the root belongs to it, and logs how this instance joined. */
export async function openSharedState(config: ServerConfig, rootHost: string, log: (line: string) => void): Promise<PostgresStateStore> {
  const store = await PostgresStateStore.open(config.stateUrl!, {
    onFenced: (reason) => log(`this instance lost its lease (${reason}): it refuses writes (503) until it is restarted`),
  });
  try {
    await bindSharedRoot(store, config, rootHost, log);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * Recovers every dead instance (its intents and pending retention rows, through a recovery view),
 * then ends its running operations (423 until then) and its lease. Returns how many were recovered.
 * A recovery that fails is given up and tried again by the next round.
 */
export async function recoverDeadInstances(store: PostgresStateStore, recoveryFor: RecoveryFor, atStart: boolean, log: (line: string) => void): Promise<number> {
  let recovered = 0;
  for (const dead of await store.adoptDeadInstances(atStart)) {
    try {
      await recoveryFor(store.recoveryView(dead.id)).recover();
      await store.finishAdoption(dead);
      recovered += 1;
      log(`recovered the interrupted work of instance ${dead.id}${dead.operationIds.length ? ` (operations ${dead.operationIds.join(', ')})` : ''}`);
    } catch (err) {
      store.abandonAdoption(dead);
      log(`recovering instance ${dead.id} failed, trying again shortly: ${(err as Error).message}`);
    }
  }
  return recovered;
}

/** Looks for dead instances every heartbeat (so recovery happens within the lease time) until the store closes. */
export function startRecoveryLoop(store: PostgresStateStore, recoveryFor: RecoveryFor, log: (line: string) => void): void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    recoverDeadInstances(store, recoveryFor, false, log)
      .catch(() => undefined) // the database is away: the next round tries again
      .finally(() => (running = false));
  }, store.lease.times.heartbeatMs);
  timer.unref();
  store.onClose(() => clearInterval(timer));
}

/**
 * openServices (server.ts) for `--state postgres://`: the shared store, the services `wire` makes
 * over it, and, when `recover`, the recovery of every dead instance before serving and then every
 * heartbeat. This instance's own journal starts empty (a new lease), and the retention directory
 * is not swept at start: live neighbours may be keeping bytes at that very moment (a scrub task
 * re-indexes or removes what a crash left there).
 */
export async function openSharedServices<S extends { tree: { recover(): Promise<unknown> } }>(
  config: ServerConfig,
  rootHost: string,
  recover: boolean,
  log: (line: string) => void,
  wire: (state: StateStore) => S,
): Promise<{ services: S; state: PostgresStateStore; ownership: null }> {
  const state = await openSharedState(config, rootHost, log);
  try {
    const services = wire(state);
    if (recover) {
      const recoveryFor: RecoveryFor = (view) => wire(view).tree;
      await recoverDeadInstances(state, recoveryFor, true, log);
      startRecoveryLoop(state, recoveryFor, log);
    }
    return { services, state, ownership: null };
  } catch (err) {
    await state.close();
    throw err;
  }
}
