/** Version records (a file's ETag, the fingerprint it was given for, its digests) in the SQLite state database. */
import type Database from 'better-sqlite3';
import type { DavPath } from '../../paths/davPath';
import type { FileFingerprint, KnownDigests, VersionRecord, VersionRecords } from '../stateStore';
import { subtreeBounds, subtreeCondition, type SubtreeBounds } from '../subtree';
import type { StepRunner, TransactionGate } from './transactionGate';
import { toVersionRecord as toRecord, type VersionTableRow as Row } from '../tableRows';

export class SqliteVersionRecords implements VersionRecords {
  private readonly selectOne;
  private readonly selectMany;
  private readonly anyInSubtree;
  private readonly selectPaths;
  private readonly upsertFingerprint;
  private readonly upsertContent;
  private readonly setMissingDigests;
  private readonly deleteTree;
  private readonly moveAll: (from: DavPath, to: DavPath) => void;

  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  constructor(db: Database.Database, transactions: TransactionGate) {
    this.gate = transactions.outside;
    this.selectOne = db.prepare<[string], Row>('SELECT etag, ino, size, mtime_ms, sha1, md5 FROM versions WHERE path = ?');
    this.selectMany = db.prepare<[string], Row & { path: string }>(
      'SELECT path, etag, ino, size, mtime_ms, sha1, md5 FROM versions WHERE path IN (SELECT value FROM json_each(?))',
    );
    this.anyInSubtree = db.prepare<[SubtreeBounds], { found: number }>(
      `SELECT EXISTS (SELECT 1 FROM versions WHERE ${subtreeCondition('path')}) AS found`,
    );
    this.selectPaths = db.prepare<[], { path: string }>('SELECT path FROM versions');
    // A metadata change keeps the digests; new content replaces them (NULL when unknown).
    this.upsertFingerprint = db.prepare(
      'INSERT INTO versions (path, etag, ino, size, mtime_ms) VALUES (@path, @etag, @ino, @size, @mtimeMs) ' +
        'ON CONFLICT(path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms',
    );
    this.upsertContent = db.prepare(
      'INSERT INTO versions (path, etag, ino, size, mtime_ms, sha1, md5) VALUES (@path, @etag, @ino, @size, @mtimeMs, @sha1, @md5) ' +
        'ON CONFLICT(path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms, ' +
        'sha1 = excluded.sha1, md5 = excluded.md5',
    );
    this.setMissingDigests = db.prepare(
      'UPDATE versions SET sha1 = coalesce(sha1, @sha1), md5 = coalesce(md5, @md5) ' +
        'WHERE path = @path AND etag = @etag AND ino = @ino AND size = @size AND mtime_ms = @mtimeMs AND (sha1 IS NULL OR md5 IS NULL)',
    );
    this.deleteTree = db.prepare(`DELETE FROM versions WHERE ${subtreeCondition('path')}`);
    const moveTree = db.prepare(`UPDATE versions SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`);
    this.moveAll = db.transaction((from: DavPath, to: DavPath) => {
      this.deleteTree.run(subtreeBounds(to));
      moveTree.run({ ...subtreeBounds(from), to });
    });
  }

  get(path: DavPath): Promise<VersionRecord | null> {
    return this.gate.call(() => {
      const row = this.selectOne.get(path);
      return row ? toRecord(row) : null;
    });
  }

  /**
   * The records of `paths` (non-empty, all inside `within`: subtreeBounds of their
   * commonSubtree), paths without one absent: a step, run at once (the store's recordsOfMembers
   * runs it through the gate, beside the dead properties' own).
   */
  recordsOf(paths: readonly DavPath[], within: SubtreeBounds): Map<DavPath, VersionRecord> {
    const found = new Map<DavPath, VersionRecord>();
    // A tree put in place by other means has no record: one index probe instead of matching every path.
    if (this.anyInSubtree.get(within)!.found === 0) return found;
    for (const row of this.selectMany.all(JSON.stringify(paths))) found.set(row.path, toRecord(row));
    return found;
  }

  put(path: DavPath, r: VersionRecord): Promise<void> {
    return this.gate.call(() => {
      this.upsertContent.run({ path, etag: r.etag, ino: r.ino, size: r.size, mtimeMs: r.mtimeMs, sha1: r.sha1, md5: r.md5 });
    });
  }

  completeDigests(path: DavPath, etag: string, f: FileFingerprint, digests: KnownDigests): Promise<boolean> {
    return this.gate.call(() => this.setMissingDigests.run({ path, etag, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, sha1: digests.sha1, md5: digests.md5 }).changes === 1);
  }

  putFingerprint(path: DavPath, etag: string, f: FileFingerprint): Promise<void> {
    return this.gate.call(() => {
      this.upsertFingerprint.run({ path, etag, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs });
    });
  }

  paths(): Promise<DavPath[]> {
    return this.gate.call(() => this.selectPaths.all().map((r) => r.path));
  }

  moveSubtree(from: DavPath, to: DavPath): Promise<void> {
    return this.gate.call(() => this.moveAll(from, to));
  }

  forgetSubtree(path: DavPath): Promise<void> {
    return this.gate.call(() => {
      this.deleteTree.run(subtreeBounds(path));
    });
  }
}
