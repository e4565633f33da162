import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type StateDatabase = Database.Database;

/**
 * Opens (creating if needed) the embedded state database under `stateDir`: one SQLite file in WAL
 * mode. Its tables are the schema module's (state/sqlite/schema.ts), created or migrated when the
 * SqliteStateStore is made over it.
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
