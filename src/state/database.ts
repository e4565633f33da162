import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type StateDatabase = Database.Database;

/**
 * Opens (creating if needed) the embedded state store under `stateDir`: one SQLite file in WAL
 * mode. Every module that keeps state creates its own tables through `ensureSchema` at start-up.
 * Calls are synchronous, so a check and the write that depends on it run with no `await` between.
 */
export function openStateDatabase(stateDir: string): StateDatabase {
  mkdirSync(stateDir, { recursive: true });
  const db = new Database(join(stateDir, 'keepdav.sqlite'));
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a commit survives a process crash (kill -9) without an fsync per commit; only
  // a power loss can undo the last commits, never corrupt the store. File contents are fsynced
  // by the storage layer regardless.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** An in-memory store for unit tests. */
export function openMemoryDatabase(): StateDatabase {
  return new Database(':memory:');
}
