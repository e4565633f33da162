/**
 * The retention index in the SQLite state database: one row per retained file, or per tree still
 * being moved out (see versions/retention.ts for the policy and the crash-safe steps). The total
 * of the rows' sizes is cached in memory (this process is the only owner) and recomputed after a
 * rollback.
 */
import type Database from 'better-sqlite3';
import type { DavPath } from '../../paths/davPath';
import type { PathNewest, RetentionRecords, RetentionRow } from '../stateStore';
import { subtreeBounds, subtreeCondition } from '../subtree';
import type { StepRunner, TransactionGate } from './transactionGate';
import { RETENTION_COLUMNS as COLUMNS, toRetentionRow as toRow, toRetentionTableRow as toParams, type RetentionTableRow as Row } from '../tableRows';

export class SqliteRetentionRecords implements RetentionRecords {
  private readonly insertRow;
  private readonly byPath;
  private readonly deleteBeyondNewest;
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
  private readonly selectNewestUnder;
  private readonly selectAll;
  private readonly selectPaths;
  private readonly sumSizes;
  private readonly replaceAll: (pendingId: string, rows: readonly RetentionRow[]) => void;
  /** SUM(size) of every row, or null when it must be read again (a box: transaction views share it). */
  private readonly total: { bytes: number | null } = { bytes: null };
  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  constructor(db: Database.Database, transactions: TransactionGate) {
    this.gate = transactions.outside;
    this.insertRow = db.prepare(
      `INSERT INTO retained_versions (${COLUMNS}) VALUES (@id, @path, @retained_at, @size, @etag, @mtime_ms, @reason, @storage, @pending_reason, @source_ino, @pending_kind, @intent_id, @properties)`,
    );
    this.byPath = db.prepare<[string], Row>(
      `SELECT ${COLUMNS} FROM retained_versions WHERE path = ? AND reason != 'pending' ORDER BY retained_at DESC, rowid DESC`,
    );
    this.deleteBeyondNewest = db.prepare<[string, number], Row>(
      `DELETE FROM retained_versions WHERE id IN (SELECT id FROM retained_versions WHERE path = ? AND reason != 'pending'
         ORDER BY retained_at DESC, rowid DESC LIMIT -1 OFFSET ?) RETURNING ${COLUMNS}`,
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
    this.selectNewestUnder = db.prepare<{ path: string; lower: string; upper: string; limit: number; afterAt: number | null; afterPath: string | null }, { path: string; newest: number }>(
      `SELECT path, MAX(retained_at) AS newest FROM retained_versions WHERE ${subtreeCondition('path')} AND reason != 'pending'
       GROUP BY path HAVING @afterAt IS NULL OR newest < @afterAt OR (newest = @afterAt AND path > @afterPath)
       ORDER BY newest DESC, path LIMIT @limit`,
    );
    this.countListed = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM retained_versions WHERE reason != 'pending'");
    this.selectAll = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason != 'pending' ORDER BY rowid`);
    this.selectPaths = db.prepare<[], { path: string }>("SELECT DISTINCT path FROM retained_versions WHERE reason != 'pending'");
    this.sumSizes = db.prepare<[], { total: number }>('SELECT COALESCE(SUM(size), 0) AS total FROM retained_versions');
    this.replaceAll = db.transaction((pendingId: string, rows: readonly RetentionRow[]) => {
      this.removeRow(pendingId);
      for (const row of rows) this.addRow(row);
    });
    transactions.onRollback(() => {
      this.total.bytes = null;
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
        this.total.bytes = null;
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

  removeBeyondNewest(path: DavPath, keep: number): Promise<RetentionRow[]> {
    return this.gate.call(() => {
      const before = this.bytes();
      const removed = this.deleteBeyondNewest.all(path, keep);
      this.total.bytes = removed.reduce((bytes, row) => bytes - row.size, before);
      return removed.map(toRow);
    });
  }

  listUnder(path: DavPath): Promise<RetentionRow[]> {
    return this.gate.call(() => this.underPath.all(subtreeBounds(path)).map(toRow));
  }

  newestUnder(path: DavPath, limit: number, after?: PathNewest): Promise<PathNewest[]> {
    const page = { ...subtreeBounds(path), limit, afterAt: after?.retainedAtMs ?? null, afterPath: after?.path ?? null };
    return this.gate.call(() => this.selectNewestUnder.all(page).map((r) => ({ path: r.path as DavPath, retainedAtMs: r.newest })));
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

  keptBytes(): Promise<number> {
    return this.gate.call(() => this.bytes());
  }

  moveSubtree(from: DavPath, to: DavPath): Promise<void> {
    return this.gate.call(() => {
      this.moveTree.run({ ...subtreeBounds(from), to });
    });
  }

  private bytes(): number {
    this.total.bytes ??= this.sumSizes.get()!.total;
    return this.total.bytes;
  }

  private addRow(row: RetentionRow): void {
    const before = this.bytes();
    this.insertRow.run(toParams(row));
    this.total.bytes = before + row.size;
  }

  private removeRow(id: string): RetentionRow | null {
    const row = this.byId.get(id);
    if (!row) return null;
    const before = this.bytes();
    this.deleteRow.run(id);
    this.total.bytes = before - row.size;
    return toRow(row);
  }
}
