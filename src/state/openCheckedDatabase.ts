/**
 * Opens the state database and turns a damaged one into one clear line naming the file, instead
 * of a stack trace from deep inside whichever module first touched it.
 */
import { join } from 'node:path';
import { openStateDatabase, writeNothing, type StateDatabase } from './database';
import { cannotOpen } from './stateOwnership';

export const STATE_DATABASE_FILE = 'keepdav.sqlite';

/** The state database cannot be read: not a database, or corrupt. */
export class DamagedStateError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`the state database ${file} is damaged (${detail}); restore it from a backup, or move it away and start with --new-state`);
    this.name = 'DamagedStateError';
  }
}

/** The state database cannot be written by this process's user (`code`: SQLITE_READONLY...). */
export class UnwritableStateError extends Error {
  constructor(readonly file: string, code: string) {
    super(`the state database ${file} cannot be written by this user (${code}): give the state directory and its files to the user keepdav runs as (chown -R), or run keepdav as their owner`);
    this.name = 'UnwritableStateError';
  }
}

const DAMAGE_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

/** Whether `err` says the database file is damaged (as opposed to busy, full, or a bug). */
export function isDamage(err: unknown): boolean {
  return DAMAGE_CODES.has((err as { code?: string })?.code ?? '');
}

/** Runs `work` on the database, turning damage met on the way into DamagedStateError. */
export function withDamageCheck<T>(stateDir: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (isDamage(err)) throw new DamagedStateError(join(stateDir, STATE_DATABASE_FILE), (err as Error).message);
    throw err;
  }
}

/** Opens the state database and reads its schema (the first pages), so damage shows at once. */
export function openCheckedDatabase(stateDir: string): StateDatabase {
  return withDamageCheck(stateDir, () => {
    let db: StateDatabase;
    try {
      db = openStateDatabase(stateDir);
    } catch (err) {
      throw cannotOpen(stateDir, join(stateDir, STATE_DATABASE_FILE), err);
    }
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  });
}

/**
 * Throws UnwritableStateError (closing `db`) when this user cannot write the state database:
 * owned by another user, or read-only, it opens for reading without a word, and every write
 * would then be a 500. For the owner, at start.
 */
export function refuseUnwritable(stateDir: string, db: StateDatabase): void {
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      writeNothing(db);
    } finally {
      db.exec('ROLLBACK');
    }
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (!/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) throw err;
    db.close();
    throw new UnwritableStateError(join(stateDir, STATE_DATABASE_FILE), code);
  }
}
