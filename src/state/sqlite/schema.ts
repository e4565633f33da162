/**
 * The schema of the embedded SQLite state database, as numbered migrations. The number applied is
 * kept in `PRAGMA user_version`; opening a database runs the missing ones in order, each in its
 * own transaction, so a crash between two leaves a database at one number or the next.
 *
 * Migration 1 is the schema as it stood before the state-store seam, written so that it also
 * adopts every database made by earlier keepdav versions (user_version 0, tables present or not,
 * with or without the columns added over time): CREATE ... IF NOT EXISTS, then each column that
 * was once added by ALTER TABLE, when missing. A new database gets exactly the same tables.
 */
import type Database from 'better-sqlite3';

/** One schema step. `up` runs inside a transaction. */
interface Migration {
  readonly version: number;
  readonly up: (db: Database.Database) => void;
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

function addMissingColumns(db: Database.Database, table: string, columns: ReadonlyArray<readonly [string, string]>): void {
  const present = columnsOf(db, table);
  for (const [name, type] of columns) if (!present.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`CREATE TABLE IF NOT EXISTS locks (
  token           TEXT PRIMARY KEY NOT NULL,
  root            TEXT NOT NULL,
  scope           TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')),
  depth           TEXT NOT NULL CHECK (depth IN ('0', 'infinity')),
  owner           TEXT,
  timeout_seconds REAL,          -- NULL means Infinite
  expires_at_ms   REAL,          -- NULL means never
  created_at_ms   REAL NOT NULL,
  principal       TEXT           -- the signed-in user who took it; NULL: anonymous
)`);
      // Databases made before users existed lack the principal column (their locks stay anonymous).
      addMissingColumns(db, 'locks', [['principal', 'TEXT']]);
      db.exec(`CREATE TABLE IF NOT EXISTS dead_properties (
      path TEXT NOT NULL, ns TEXT NOT NULL, local TEXT NOT NULL, xml TEXT NOT NULL,
      PRIMARY KEY (path, ns, local))`);
      db.exec(`CREATE TABLE IF NOT EXISTS versions (
      path TEXT PRIMARY KEY, etag TEXT NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL)`);
      // The digest columns (checksums); existing rows keep NULL.
      addMissingColumns(db, 'versions', [['sha1', 'TEXT'], ['md5', 'TEXT']]);
      db.exec(`CREATE TABLE IF NOT EXISTS intents (
      id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, src TEXT NOT NULL, dst TEXT, depth TEXT NOT NULL)`);
      addMissingColumns(db, 'intents', [['mtime_ms', 'REAL']]);
      db.exec(`CREATE TABLE IF NOT EXISTS retained_versions (
      id TEXT PRIMARY KEY, path TEXT NOT NULL, retained_at INTEGER NOT NULL, size INTEGER NOT NULL,
      etag TEXT NOT NULL, mtime_ms REAL NOT NULL, reason TEXT NOT NULL, storage TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS retained_versions_path ON retained_versions (path, retained_at)`);
      // The columns of the pending step (crash-safe retention).
      addMissingColumns(db, 'retained_versions', [['pending_reason', 'TEXT'], ['source_ino', 'INTEGER'], ['pending_kind', 'TEXT'], ['intent_id', 'INTEGER']]);
      db.exec('CREATE TABLE IF NOT EXISTS state_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY, checked_at INTEGER NOT NULL)');
    },
  },
  {
    version: 2,
    // The dead properties a deleted or replaced file had, kept with its version (NULL: none).
    up: (db) => addMissingColumns(db, 'retained_versions', [['properties', 'TEXT']]),
  },
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** A database written by a newer keepdav: refused rather than misread. */
export class NewerSchemaError extends Error {
  constructor(readonly found: number) {
    super(`the state database has schema version ${found}, newer than this keepdav knows (${SCHEMA_VERSION}); run the newer keepdav`);
    this.name = 'NewerSchemaError';
  }
}

/** The schema version of `db` (0: made before versions were numbered, or empty). */
export function schemaVersionOf(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Brings `db` to SCHEMA_VERSION; returns the versions applied. Throws NewerSchemaError for a newer database. */
export function migrate(db: Database.Database): number[] {
  const current = schemaVersionOf(db);
  if (current > SCHEMA_VERSION) throw new NewerSchemaError(current);
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.version);
  }
  return applied;
}
