/**
 * One owner of the state directory. Two servers (or a server and the CLI's `restore`) on one
 * state would grant two exclusive locks on one file and discard each other's in-flight versions
 * at start-up, so the owner holds an exclusive lock that the operating system releases when the
 * process ends, however it ends (kill -9 included): nothing stale to clean up, nothing to steal.
 *
 * The lock is SQLite's own: a dedicated, always-empty database file (`owner.lock`) on which the
 * owner keeps a `BEGIN EXCLUSIVE` transaction open. SQLite takes it with POSIX advisory locks
 * (fcntl) across processes and tracks it per file within one process, so a second owner in the
 * same process is refused too. No mkdir-and-mtime heuristic (proper-lockfile) that could let a
 * slow live owner be declared stale, and no extra native dependency.
 *
 * Beside the lock, `owner.json` names the owner (pid, URL once listening) so that a second server
 * can say who holds the state and the CLI can send a restore to the running server.
 */
import Database from 'better-sqlite3';
import { writeNothing } from './database';
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'owner.lock';
const OWNER_FILE = 'owner.json';

/** Who holds a state directory, as it recorded itself. */
export interface StateOwnerRecord {
  pid: number;
  /** The URL it serves, once listening; null for the CLI or before listening. */
  url: string | null;
  startedAt: string;
  /**
   * With HTTPS: the SHA-256 fingerprint of the certificate it serves (as X509Certificate writes
   * it), so the CLI's restore can trust exactly that certificate on 127.0.0.1 (src/remoteRestore.ts).
   */
  certificateSha256?: string;
}

/** The state directory is held by another live process. */
export class StateInUseError extends Error {
  constructor(readonly stateDir: string, readonly owner: StateOwnerRecord | null, remedy = 'stop it first, or give this one another --state') {
    super(
      `the state directory ${stateDir} is in use by ` +
        (owner ? `keepdav pid ${owner.pid}${owner.url ? ` serving ${owner.url}` : ''}` : 'another keepdav process') +
        `; ${remedy}`,
    );
    this.name = 'StateInUseError';
  }
}

export interface StateOwnership {
  /** Records the URL the owner serves (for a second server's message and the CLI's restore), and with HTTPS its certificate's fingerprint. */
  recordUrl(url: string, certificateSha256?: string): void;
  /** Gives the state up (also done by the OS when the process dies). */
  release(): void;
}

/** What `owner.json` says, or null when there is none or it cannot be read. */
export function readStateOwner(stateDir: string): StateOwnerRecord | null {
  try {
    const parsed = JSON.parse(readFileSync(join(stateDir, OWNER_FILE), 'utf8')) as StateOwnerRecord;
    return typeof parsed.pid === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

/** Gives space up on a full disk (the space ballast, storage/spaceBallast.ts); true when some was freed. */
export type SpaceRelease = () => boolean;

function writeOwnerRecord(stateDir: string, record: StateOwnerRecord, releaseSpace: SpaceRelease): void {
  const file = join(stateDir, OWNER_FILE);
  try {
    writeFileSync(file + '.tmp', JSON.stringify(record) + '\n');
  } catch (err) {
    // A disk full to the last block: the space ballast gives way, so the server can start and its
    // DELETEs free space; it is laid down again once pruning made room.
    if ((err as { code?: string }).code !== 'ENOSPC' || !releaseSpace()) throw err;
    writeFileSync(file + '.tmp', JSON.stringify(record) + '\n');
  }
  renameSync(file + '.tmp', file);
}

/** The ownership lock: the exclusive transaction held open on LOCK_FILE; StateInUseError when another process holds it. */
function lockState(stateDir: string): Database.Database {
  let lock: Database.Database;
  try {
    lock = new Database(join(stateDir, LOCK_FILE), { timeout: 0 });
  } catch (err) {
    throw cannotOpen(stateDir, join(stateDir, LOCK_FILE), err);
  }
  try {
    lock.exec('BEGIN EXCLUSIVE');
    // A lock file this user cannot write opens read-only, where BEGIN EXCLUSIVE takes a shared lock
    // only, and a second server would take it too: a write proves the lock.
    writeNothing(lock);
    return lock;
  } catch (err) {
    lock.close();
    if (isBusy(err)) throw new StateInUseError(stateDir, readStateOwner(stateDir));
    if (/^SQLITE_READONLY/.test(String((err as { code?: unknown }).code ?? ''))) {
      throw new Error(`cannot take ${join(stateDir, LOCK_FILE)}: it cannot be written by this user, so it could not keep a second server out: give the state directory and its files to the user keepdav runs as (chown -R)`);
    }
    throw err;
  }
}

/** SQLite's "unable to open database file" names no file: this names it, and the likely cause. */
export function cannotOpen(stateDir: string, file: string, err: unknown): unknown {
  if ((err as { code?: string }).code !== 'SQLITE_CANTOPEN') return err;
  return new Error(`cannot open ${file} (${(err as Error).message}): the state directory ${stateDir} must be writable by the user keepdav runs as`);
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the state directory (creating it) or throws StateInUseError naming its current owner.
 * Never waits: a live owner is never stolen from, a dead one holds nothing.
 */
export function acquireStateOwnership(stateDir: string, releaseSpace: SpaceRelease = () => false): StateOwnership {
  mkdirSync(stateDir, { recursive: true });
  let lock: Database.Database;
  try {
    lock = lockState(stateDir);
  } catch (err) {
    // On a disk full to the last block and inode the lock's journal cannot be made (SQLITE_CANTOPEN,
    // SQLITE_FULL): the space ballast gives way, so the server starts, serves reads, and its
    // DELETEs free space (storage/spaceBallast.ts).
    if (err instanceof StateInUseError || !releaseSpace()) throw err;
    lock = lockState(stateDir);
  }
  const record: StateOwnerRecord = { pid: process.pid, url: null, startedAt: new Date().toISOString() };
  try {
    writeOwnerRecord(stateDir, record, releaseSpace);
  } catch (err) {
    lock.close();
    const code = (err as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`cannot write ${join(stateDir, OWNER_FILE)} (${code}): the state directory ${stateDir} must be writable by the user keepdav runs as`);
    throw err;
  }
  let held = true;
  return {
    recordUrl(url: string, certificateSha256?: string) {
      if (held) writeOwnerRecord(stateDir, { ...record, url, ...(certificateSha256 ? { certificateSha256 } : {}) }, releaseSpace);
    },
    release() {
      if (!held) return;
      held = false;
      lock.close(); // ends the open transaction and with it the lock
    },
  };
}
