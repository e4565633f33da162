/**
 * The retention index in the SQLite state database: one row per retained file, or per tree still
 * being moved out (see versions/retention.ts for the policy and the crash-safe steps). The total
 * of the rows' sizes is cached in memory (this process is the only owner) and recomputed after a
 * rollback.
 */
import type Database from 'better-sqlite3';
import type { DavPath } from '../../paths/davPath';
import type { RetentionReason, RetentionRecords, RetentionRow } from '../stateStore';
import { subtreeBounds, subtreeCondition } from '../subtree';
import type { TransactionGate } from './transactionGate';

interface Row {
  id: string;
  path: string;
  retained_at: number;
  size: number;
  etag: string;
  mtime_ms: number;
  reason: RetentionReason | 'pending';
  storage: string;
  pending_reason: RetentionReason | null;
  source_ino: number | null;
  pending_kind: 'file' | 'tree' | null;
  intent_id: number | null;
}

const COLUMNS = 'id, path, retained_at, size, etag, mtime_ms, reason, storage, pending_reason, source_ino, pending_kind, intent_id';

const toRow = (r: Row): RetentionRow => ({
  id: r.id, path: r.path, retainedAtMs: r.retained_at, size: r.size, etag: r.etag, mtimeMs: r.mtime_ms, reason: r.reason, storage: r.storage,
  pendingReason: r.pending_reason, sourceIno: r.source_ino, pendingKind: r.pending_kind, intentId: r.intent_id,
});

const toParams = (r: RetentionRow): Row => ({
  id: r.id, path: r.path, retained_at: r.retainedAtMs, size: r.size, etag: r.etag, mtime_ms: r.mtimeMs, reason: r.reason, storage: r.storage,
  pending_reason: r.pendingReason, source_ino: r.sourceIno, pending_kind: r.pendingKind, intent_id: r.intentId,
});

export class SqliteRetentionRecords implements RetentionRecords {
  private readonly insertRow;
  private readonly byPath;
  private readonly byId;
  private readonly underPath;
  private readonly deleteRow;
  private readonly markCommitted;
  private readonly moveTree;
  private readonly selectPending;
  private readonly selectPendingOfIntent;
  private readonly selectStorage;
  private readonly selectOlderThan;
  private readonly selectOldest;
  private readonly countListed;
  private readonly selectAll;
  private readonly selectPaths;
  private readonly sumSizes;
  private readonly replaceAll: (pendingId: string, rows: readonly RetentionRow[]) => void;
  /** SUM(size) of every row, or null when it must be read again. */
  private totalBytes: number | null = null;

  constructor(db: Database.Database, private readonly gate: TransactionGate) {
    this.insertRow = db.prepare(
      `INSERT INTO retained_versions (${COLUMNS}) VALUES (@id, @path, @retained_at, @size, @etag, @mtime_ms, @reason, @storage, @pending_reason, @source_ino, @pending_kind, @intent_id)`,
    );
    this.byPath = db.prepare<[string], Row>(
      `SELECT ${COLUMNS} FROM retained_versions WHERE path = ? AND reason != 'pending' ORDER BY retained_at DESC, rowid DESC`,
    );
    this.byId = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE id = ?`);
    this.underPath = db.prepare<{ path: string; lower: string; upper: string }, Row>(
      `SELECT ${COLUMNS} FROM retained_versions WHERE ${subtreeCondition('path')} AND reason != 'pending' ORDER BY path, retained_at DESC, rowid DESC`,
    );
    this.deleteRow = db.prepare('DELETE FROM retained_versions WHERE id = ?');
    this.markCommitted = db.prepare(
      "UPDATE retained_versions SET reason = COALESCE(pending_reason, 'overwrite'), pending_reason = NULL, pending_kind = NULL, source_ino = NULL, intent_id = NULL WHERE id = ? AND reason = 'pending'",
    );
    this.moveTree = db.prepare(`UPDATE retained_versions SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`);
    this.selectPending = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason = 'pending' ORDER BY rowid`);
    this.selectPendingOfIntent = db.prepare<[number], Row>(
      `SELECT ${COLUMNS} FROM retained_versions WHERE reason = 'pending' AND pending_kind = 'tree' AND intent_id = ? ORDER BY rowid`,
    );
    this.selectStorage = db.prepare<[], { storage: string }>('SELECT storage FROM retained_versions');
    this.selectOlderThan = db.prepare<[number], { id: string }>("SELECT id FROM retained_versions WHERE retained_at < ? AND reason != 'pending'");
    this.selectOldest = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason != 'pending' ORDER BY retained_at, rowid LIMIT ?`);
    this.countListed = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM retained_versions WHERE reason != 'pending'");
    this.selectAll = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason != 'pending' ORDER BY rowid`);
    this.selectPaths = db.prepare<[], { path: string }>("SELECT DISTINCT path FROM retained_versions WHERE reason != 'pending'");
    this.sumSizes = db.prepare<[], { total: number }>('SELECT COALESCE(SUM(size), 0) AS total FROM retained_versions');
    this.replaceAll = db.transaction((pendingId: string, rows: readonly RetentionRow[]) => {
      this.removeRow(pendingId);
      for (const row of rows) this.addRow(row);
    });
    gate.onRollback(() => {
      this.totalBytes = null;
    });
  }

  insert(row: RetentionRow): Promise<void> {
    return this.gate.call(() => this.addRow(row));
  }

  replace(pendingId: string, rows: readonly RetentionRow[]): Promise<void> {
    return this.gate.call(() => {
      // A failed better-sqlite3 transaction rolls its statements back: the cached total too.
      try {
        this.replaceAll(pendingId, rows);
      } catch (err) {
        this.totalBytes = null;
        throw err;
      }
    });
  }

  commit(id: string): Promise<boolean> {
    return this.gate.call(() => this.markCommitted.run(id).changes > 0);
  }

  get(id: string): Promise<RetentionRow | null> {
    return this.gate.call(() => {
      const row = this.byId.get(id);
      return row ? toRow(row) : null;
    });
  }

  remove(id: string): Promise<RetentionRow | null> {
    return this.gate.call(() => this.removeRow(id));
  }

  list(path: DavPath): Promise<RetentionRow[]> {
    return this.gate.call(() => this.byPath.all(path).map(toRow));
  }

  listUnder(path: DavPath): Promise<RetentionRow[]> {
    return this.gate.call(() => this.underPath.all(subtreeBounds(path)).map(toRow));
  }

  listAll(): Promise<RetentionRow[]> {
    return this.gate.call(() => this.selectAll.all().map(toRow));
  }

  listedPaths(): Promise<DavPath[]> {
    return this.gate.call(() => this.selectPaths.all().map((r) => r.path));
  }

  pending(): Promise<RetentionRow[]> {
    return this.gate.call(() => this.selectPending.all().map(toRow));
  }

  pendingOfIntent(intentId: number): Promise<RetentionRow[]> {
    return this.gate.call(() => this.selectPendingOfIntent.all(intentId).map(toRow));
  }

  storagePaths(): Promise<Set<string>> {
    return this.gate.call(() => new Set(this.selectStorage.all().map((r) => r.storage)));
  }

  idsOlderThan(cutoffMs: number): Promise<string[]> {
    return this.gate.call(() => this.selectOlderThan.all(cutoffMs).map((r) => r.id));
  }

  oldest(limit: number): Promise<RetentionRow[]> {
    return this.gate.call(() => this.selectOldest.all(limit).map(toRow));
  }

  totals(): Promise<{ count: number; bytes: number }> {
    return this.gate.call(() => ({ count: this.countListed.get()!.n, bytes: this.bytes() }));
  }

  moveSubtree(from: DavPath, to: DavPath): Promise<void> {
    return this.gate.call(() => {
      this.moveTree.run({ ...subtreeBounds(from), to });
    });
  }

  private bytes(): number {
    this.totalBytes ??= this.sumSizes.get()!.total;
    return this.totalBytes;
  }

  private addRow(row: RetentionRow): void {
    const before = this.bytes();
    this.insertRow.run(toParams(row));
    this.totalBytes = before + row.size;
  }

  private removeRow(id: string): RetentionRow | null {
    const row = this.byId.get(id);
    if (!row) return null;
    const before = this.bytes();
    this.deleteRow.run(id);
    this.totalBytes = before - row.size;
    return toRow(row);
  }
}
