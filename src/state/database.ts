import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type StateDatabase = Database.Database;

/**
 * SQLite's own page cache, in KiB when negative: SQLite's default of 2,000 KiB, where better-sqlite3
 * builds it with 16,000. The cache fills as the state grows (each version record, lock and property
 * adds to it) and is never given back, so with 16 MB a server that kept writing new files grew
 * by 2-3 MiB of resident memory with every 10,000 of them: measured with `wrk`, eight rounds of
 * small PUTs, GETs, listings and locks took a server from 74 to 94 MiB when quiet, still rising,
 * against 74-78 MiB throughout with this cap (peaks 124 MiB without it, 112 with), at the same
 * throughput. Pages beyond it are read from the operating system's page cache, which holds the
 * file anyway.
 */
export const STATE_PAGE_CACHE_CAP = -2000;

/**
 * Pages the write-ahead log may hold before a commit checkpoints it into the database: 10,000
 * (about 40 MB of log at most) where SQLite's default is 1,000. Every commit of keepdav's is
 * autocommit, so an overwrite commits four times (pending version, version record, retention
 * commit, pruning), and a checkpoint came every few dozen requests, each with two fsyncs on the
 * main thread while the uploads' own fsyncs filled the disk's queue. Measured with wrk, 16 connections overwriting
 * 4 KiB files, three interleaved A/B pairs: 1,116-1,274 overwrites/s against 911-1,137 (median
 * 1,196 against 1,058), 1,040-1,180 µs of CPU each against 1,140-1,370. A checkpoint copies each
 * page once however often it changed, so the rarer checkpoints also write less.
 */
export const STATE_WAL_CHECKPOINT_PAGES = 10_000;

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
  db.pragma(`cache_size = ${STATE_PAGE_CACHE_CAP}`);
  db.pragma(`wal_autocheckpoint = ${STATE_WAL_CHECKPOINT_PAGES}`);
  return db;
}

/**
 * A write that changes nothing (the header's user_version set to what it is), inside the caller's
 * transaction: a connection SQLite opened read-only, because this user cannot write the file,
 * refuses it with SQLITE_READONLY, where BEGIN (even EXCLUSIVE) passes and takes a shared lock only.
 */
export function writeNothing(db: StateDatabase): void {
  db.exec(`PRAGMA user_version = ${Number(db.pragma('user_version', { simple: true }))}`);
}
