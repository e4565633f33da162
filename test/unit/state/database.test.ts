/**
 * openStateDatabase: the embedded state's settings. The page cache cap matters for memory: a
 * plain better-sqlite3 connection caches up to 16 MB of pages, which a server that keeps writing
 * new files fills and never gives back.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDatabase, STATE_PAGE_CACHE_CAP, STATE_WAL_CHECKPOINT_PAGES } from '../../../src/state/database';

describe('openStateDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keepdav-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses WAL with synchronous NORMAL, and caps SQLite\'s page cache at SQLite\'s own default of 2,000 KiB', () => {
    const db = openStateDatabase(dir);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect(STATE_PAGE_CACHE_CAP).toBe(-2000);
      expect(db.pragma('cache_size', { simple: true })).toBe(STATE_PAGE_CACHE_CAP);
    } finally {
      db.close();
    }
    // Without it the connection would keep better-sqlite3's build default, eight times as large.
    const plain = new Database(join(dir, 'plain.sqlite'));
    try {
      expect(plain.pragma('cache_size', { simple: true })).toBe(-16000);
    } finally {
      plain.close();
    }
  });

  it('checkpoints the write-ahead log every 10,000 pages, not after every 1,000 (fewer fsyncs on the main thread)', () => {
    const db = openStateDatabase(dir);
    try {
      expect(STATE_WAL_CHECKPOINT_PAGES).toBe(10_000);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(STATE_WAL_CHECKPOINT_PAGES);
    } finally {
      db.close();
    }
    const plain = new Database(join(dir, 'plain.sqlite'));
    try {
      expect(plain.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      plain.close();
    }
  });
});
