/**
 * Retained versions: what an overwrite, a DELETE, or a COPY/MOVE onto an existing target replaces
 * is kept under the state directory (never reachable by URL), by hard link or rename rather than
 * by copy, within a retention policy (count per path, age, total bytes). semantics.md, "Nothing is lost".
 *
 * Each retained file is one row: the DavPath it had, when and why it was retained, its size,
 * ETag and mtime, and the key of its bytes in RetainedBytes (storage/).
 *
 * Crash safety: the row is written first, as *pending* (with the inode of the bytes it will keep
 * and why), then the bytes are linked or moved, then the replacing step runs, then one commit
 * marks the row kept. `recoverPending` at start-up judges every pending row by the disk: bytes
 * never kept, or a target that still holds them, roll back; otherwise the version is committed.
 * `sweepOrphans` then frees every byte no row names.
 */
import { randomBytes } from 'node:crypto';
import type { StateDatabase } from '../state/database';
import type { DavPath } from '../paths/davPath';
import { subtreeBounds, subtreeCondition } from '../state/subtree';
import type { RetainedBytes } from '../storage/retainedBytes';
import { hasReservedSegment } from '../storage/containment';
import { reserveBytes, type FreeSpaceReserve } from './freeSpaceReserve';

/** `recovered`: bytes a crash left in the retention directory without a record, re-indexed by a scrub. */
export type RetentionReason = 'overwrite' | 'delete' | 'restore' | 'recovered';

/** A version (or a deleted tree) whose row is written but whose step is not committed yet. */
export interface PendingVersion {
  id: string;
  /** Where its bytes go in RetainedBytes. */
  key: string;
  path: DavPath;
}

export interface RetainedVersion {
  id: string;
  path: DavPath;
  retainedAtMs: number;
  size: number;
  etag: string;
  mtimeMs: number;
  reason: RetentionReason;
}

export interface RetentionPolicy {
  /** Newest versions kept per path (0 disables retention). */
  maxVersionsPerPath: number;
  /** Versions older than this are pruned, ms. */
  maxAgeMs: number;
  /** Total bytes kept; the oldest versions go first beyond it. */
  maxBytes: number;
  /** Free space left alone on the retention filesystem; the oldest versions go first below it (freeSpaceReserve.ts). */
  minFree?: FreeSpaceReserve;
}

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

const toVersion = (r: Row): RetainedVersion => ({
  id: r.id, path: r.path, retainedAtMs: r.retained_at, size: r.size, etag: r.etag, mtimeMs: r.mtime_ms, reason: r.reason as RetentionReason,
});

/** A file about to be retained, with the version facts the caller knows. */
export interface RetainedFileFacts {
  path: DavPath;
  etag: string;
  size: number;
  mtimeMs: number;
  /** The inode holding these bytes now (an overwrite gives the file a new one). */
  ino: number;
}

/** The ETag a retained file had, from its path and fingerprint (VersionStore.etagOf). */
export type EtagOf = (path: DavPath, size: number, mtimeMs: number, ino: number) => string;

/** The current fingerprint of a served file, or null when there is none (FileStore.stat). */
export type CurrentFile = (path: DavPath) => Promise<{ ino: number; isCollection: boolean } | null>;

const COLUMNS = 'id, path, retained_at, size, etag, mtime_ms, reason, storage, pending_reason, source_ino, pending_kind, intent_id';

export class RetentionStore {
  private readonly insert;
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
  private readonly selectOldestFirst;
  private lastAgePruneMs = 0;
  /** Bytes of all recorded versions, kept exactly so the byte budget is enforced on every prune. */
  private totalBytes: number;
  private readonly countRows;
  private readonly selectAll;

  constructor(
    private readonly db: StateDatabase,
    /** Where the bytes are kept (under the state directory). */
    readonly bytes: RetainedBytes,
    private readonly policy: RetentionPolicy,
    private readonly clock: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS retained_versions (
      id TEXT PRIMARY KEY, path TEXT NOT NULL, retained_at INTEGER NOT NULL, size INTEGER NOT NULL,
      etag TEXT NOT NULL, mtime_ms REAL NOT NULL, reason TEXT NOT NULL, storage TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS retained_versions_path ON retained_versions (path, retained_at)`);
    // Columns of the pending step (added to stores created before crash-safe retention).
    const columns = new Set((db.prepare('PRAGMA table_info(retained_versions)').all() as { name: string }[]).map((c) => c.name));
    for (const [name, type] of [['pending_reason', 'TEXT'], ['source_ino', 'INTEGER'], ['pending_kind', 'TEXT'], ['intent_id', 'INTEGER']]) {
      if (!columns.has(name)) db.exec(`ALTER TABLE retained_versions ADD COLUMN ${name} ${type}`);
    }
    this.insert = db.prepare(
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
    this.markCommitted = db.prepare('UPDATE retained_versions SET reason = ?, pending_reason = NULL, pending_kind = NULL WHERE id = ?');
    this.moveTree = db.prepare(`UPDATE retained_versions SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`);
    this.selectPending = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason = 'pending' ORDER BY rowid`);
    this.selectPendingOfIntent = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE reason = 'pending' AND intent_id = ? ORDER BY rowid`);
    this.selectStorage = db.prepare<[], { storage: string }>('SELECT storage FROM retained_versions');
    this.selectOlderThan = db.prepare<[number], { id: string }>("SELECT id FROM retained_versions WHERE retained_at < ? AND reason != 'pending'");
    this.selectOldestFirst = db.prepare<[], { id: string }>("SELECT id FROM retained_versions WHERE reason != 'pending' ORDER BY retained_at, rowid");
    this.countRows = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM retained_versions WHERE reason != 'pending'");
    this.selectAll = db.prepare<[], Row>("SELECT * FROM retained_versions WHERE reason != 'pending' ORDER BY rowid");
    this.totalBytes = (db.prepare('SELECT COALESCE(SUM(size), 0) AS total FROM retained_versions').get() as { total: number }).total;
  }

  get enabled(): boolean {
    return this.policy.maxVersionsPerPath > 0;
  }

  /** Versions of `path` (also of a deleted file), newest first. */
  list(path: DavPath): RetainedVersion[] {
    return this.byPath.all(path).map(toVersion);
  }

  /** Versions of `path` and of everything ever retained below it, by path, newest first within a path. */
  listUnder(path: DavPath): RetainedVersion[] {
    return this.underPath.all(subtreeBounds(path)).map(toVersion);
  }

  get(id: string): RetainedVersion | undefined {
    const row = this.byId.get(id);
    return row && row.reason !== 'pending' ? toVersion(row) : undefined;
  }

  /** The bytes of a retained version; null when it is unknown or its bytes are missing. */
  async open(id: string): Promise<import('node:stream').Readable | null> {
    const row = this.byId.get(id);
    return row && row.reason !== 'pending' ? this.bytes.open(row.storage) : null;
  }

  /**
   * Step 1 of keeping the bytes an overwrite replaces: the pending row, before anything is
   * linked. The caller then has the bytes linked under `key` (FileStore.keepFile), writes, and
   * calls `commit` (or `discard` when the write failed).
   */
  beginKeep(facts: RetainedFileFacts, reason: RetentionReason): PendingVersion | null {
    if (!this.enabled) return null;
    const id = newVersionId(this.clock());
    const key = this.bytes.keyOf(id);
    this.insert.run({
      id, path: facts.path, retained_at: this.clock(), size: facts.size, etag: facts.etag, mtime_ms: facts.mtimeMs,
      reason: 'pending', storage: key, pending_reason: reason, source_ino: facts.ino, pending_kind: 'file', intent_id: null,
    });
    this.totalBytes += facts.size;
    return { id, key, path: facts.path };
  }

  /** The overwrite happened: the pending version becomes a listed one (synchronous, so it fits in a transaction). */
  commit(pending: PendingVersion): void {
    const row = this.byId.get(pending.id);
    if (row) this.markCommitted.run(row.pending_reason ?? 'overwrite', pending.id);
  }

  /**
   * Step 1 of moving a whole resource out of the served tree (DELETE, or a COPY/MOVE target
   * replaced): the pending row of the tree, before the rename (FileStore.moveOut). Then
   * `scanTree` and, in the transaction that commits the removal, `recordTree`.
   */
  beginTree(path: DavPath, reason: RetentionReason, intentId: number): PendingVersion {
    const id = newVersionId(this.clock());
    const key = this.bytes.keyOf(id);
    this.insert.run({
      id, path, retained_at: this.clock(), size: 0, etag: '', mtime_ms: 0,
      reason: 'pending', storage: key, pending_reason: reason, source_ino: null, pending_kind: 'tree', intent_id: intentId,
    });
    return { id, key, path };
  }

  /** The rows of every file the tree `pending` holds, once moved; no row is written yet. */
  async scanTree(pending: PendingVersion, etagOf: EtagOf): Promise<Row[]> {
    const reason = this.byId.get(pending.id)?.pending_reason ?? 'delete';
    const now = this.clock();
    const files = (await this.bytes.files(pending.key))
      .map((f) => ({ ...f, path: f.below === '' ? pending.path : `${pending.path}/${f.below}` }))
      .filter((f) => !hasReservedSegment(f.path));
    return files.map((f, i) => ({
      id: i === 0 ? pending.id : `${pending.id}-${i}`, path: f.path, retained_at: now, size: f.size,
      etag: etagOf(f.path, f.size, f.mtimeMs, f.ino), mtime_ms: f.mtimeMs, reason, storage: f.key,
      pending_reason: null, source_ino: null, pending_kind: null, intent_id: null,
    }));
  }

  /** Replaces the pending row of a tree with its files' versions (synchronous: call inside the commit's transaction). */
  recordTree(pending: PendingVersion, rows: readonly Row[]): void {
    this.deleteRow.run(pending.id);
    for (const row of rows) {
      this.insert.run(row);
      this.totalBytes += row.size;
    }
  }

  /** A tree that was not moved after all (the rename failed): forgets its pending row. */
  dropTree(pending: PendingVersion): void {
    this.deleteRow.run(pending.id);
  }

  /** The trees the journaled operation `intentId` was moving out when the process stopped. */
  pendingTreesOf(intentId: number): PendingVersion[] {
    return this.selectPendingOfIntent.all(intentId).map((r) => ({ id: r.id, key: r.storage, path: r.path }));
  }

  /** MOVE: the history of `from` and below follows it to `to` (synchronous: inside the move's transaction). */
  moveSubtree(from: DavPath, to: DavPath): void {
    this.moveTree.run({ ...subtreeBounds(from), to });
  }

  /**
   * Start-up: completes or rolls back every pending row by what the disk says (see the header).
   * Runs before the intent journal is replayed, while the ETags of removed files are still known.
   * Returns how many versions were completed and how many rolled back.
   */
  async recoverPending(current: CurrentFile, etagOf: EtagOf): Promise<{ completed: number; rolledBack: number }> {
    let completed = 0;
    let rolledBack = 0;
    for (const row of this.selectPending.all()) {
      const pending = { id: row.id, key: row.storage, path: row.path };
      const kept = await this.bytes.fingerprint(row.storage);
      if (row.pending_kind === 'tree') {
        if (kept === null) {
          await this.bytes.remove(row.storage); // a partial cross-filesystem copy: the source is whole
          this.dropTree(pending);
          rolledBack += 1;
        } else {
          const rows = await this.scanTree(pending, etagOf);
          this.db.transaction(() => this.recordTree(pending, rows))();
          if (rows.length === 0) await this.bytes.remove(row.storage);
          completed += 1;
        }
        continue;
      }
      const now = await current(row.path);
      const sourceIno = row.source_ino ?? kept?.ino;
      // The write renames a new file over the target: the target still on the kept inode means it never landed.
      const landed = kept !== null && !(now && !now.isCollection && now.ino === sourceIno);
      if (landed) {
        this.commit(pending);
        completed += 1;
      } else {
        await this.discard(row.id);
        rolledBack += 1;
      }
    }
    return { completed, rolledBack };
  }

  /** Start-up, after recovery: frees every kept byte that no row names. Returns how many files went. */
  sweepOrphans(): Promise<number> {
    return this.bytes.sweep(new Set(this.selectStorage.all().map((r) => r.storage)));
  }

  /**
   * Forgets a pending version whose bytes were put back in the served tree (a write undone).
   * Best effort: when the state disk refuses even this, start-up recovery settles the row.
   */
  forgetPending(id: string): void {
    const row = this.byId.get(id);
    if (!row) return;
    try {
      this.deleteRow.run(id);
      this.totalBytes -= row.size;
    } catch {
      // recoverPending finds the bytes back at the target and rolls the row back.
    }
  }

  /** How many versions are listed, and the bytes of all kept (pending ones included). */
  totals(): { count: number; bytes: number } {
    return { count: this.countRows.get()!.n, bytes: this.totalBytes };
  }

  /** Every listed version with where its bytes are (relative to the retention directory), oldest first. */
  *records(): IterableIterator<RetainedVersion & { storage: string }> {
    for (const row of this.selectAll.iterate()) yield { ...toVersion(row), storage: row.storage };
  }

  /**
   * Whether bytes at `storage` (relative, "/"-separated) have a row: their own, or the row of the
   * bundle they lie in (a deleted tree, also one still pending: rows are written before bytes move).
   */
  isKnownStorage(storage: string, rowIds: ReadonlySet<string>): boolean {
    for (let at = storage; at !== ''; at = at.includes('/') ? at.slice(0, at.lastIndexOf('/')) : '') {
      if (rowIds.has(at)) return true;
    }
    return false;
  }

  /** The directory holding the retained bytes (the scrub walks it). */
  get dir(): string {
    return this.bytes.dir;
  }

  /** Records bytes found in the retention directory without a row (a scrub's re-index) as a listed version. */
  adopt(version: RetainedVersion, storage: string): void {
    this.insert.run({
      id: version.id, path: version.path, retained_at: version.retainedAtMs, size: version.size, etag: version.etag, mtime_ms: version.mtimeMs,
      reason: version.reason, storage, pending_reason: null, source_ino: null, pending_kind: null, intent_id: null,
    });
    this.totalBytes += version.size;
  }

  /** Every storage path that has a row (pending ones included). */
  storagePaths(): Set<string> {
    return new Set(this.db.prepare<[], { storage: string }>('SELECT storage FROM retained_versions').all().map((r) => r.storage));
  }

  /** Applies the whole policy now, to every path, the age limit included (the prune task). */
  async pruneAll(paths: readonly DavPath[]): Promise<number> {
    this.lastAgePruneMs = -Infinity;
    return this.prune(paths);
  }

  /** Every path that has listed versions. */
  versionedPaths(): DavPath[] {
    return this.db.prepare<[], { path: string }>("SELECT DISTINCT path FROM retained_versions WHERE reason != 'pending'").all().map((r) => r.path);
  }

  /** Forgets a version and frees its bytes (an overwrite that did not happen, or pruning). */
  async discard(id: string): Promise<void> {
    const row = this.byId.get(id);
    if (!row) return;
    this.deleteRow.run(id);
    this.totalBytes -= row.size;
    await this.bytes.remove(row.storage);
  }

  /**
   * Applies the retention policy: the per-path count for `touchedPaths`, then the total byte
   * budget (oldest first, exact, on every call), and the age limit (checked at most once a minute).
   */
  async prune(touchedPaths: readonly DavPath[] = []): Promise<number> {
    const doomed = new Set<string>();
    for (const path of new Set(touchedPaths)) {
      for (const row of this.byPath.all(path).slice(this.policy.maxVersionsPerPath)) doomed.add(row.id);
    }
    const now = this.clock();
    if (now - this.lastAgePruneMs >= 60_000) {
      this.lastAgePruneMs = now;
      const cutoff = now - this.policy.maxAgeMs;
      for (const row of this.selectOlderThan.all(cutoff)) doomed.add(row.id);
    }
    for (const id of doomed) await this.discard(id);
    if (this.totalBytes > this.policy.maxBytes) {
      for (const row of this.selectOldestFirst.all()) {
        if (this.totalBytes <= this.policy.maxBytes) break;
        await this.discard(row.id);
        doomed.add(row.id);
      }
    }
    for (const id of await this.keepFreeSpaceReserve()) doomed.add(id);
    return doomed.size;
  }

  /** Prunes the oldest versions while the retention filesystem has less free space than the reserve. */
  private async keepFreeSpaceReserve(): Promise<string[]> {
    if (this.policy.minFree === undefined || this.totalBytes === 0) return [];
    let space = await this.bytes.filesystemSpace();
    const reserve = reserveBytes(this.policy.minFree, space.total);
    const pruned: string[] = [];
    if (space.free >= reserve) return pruned;
    for (const row of this.selectOldestFirst.all()) {
      await this.discard(row.id);
      pruned.push(row.id);
      space = await this.bytes.filesystemSpace();
      if (space.free >= reserve) break;
    }
    return pruned;
  }
}

/** Time-ordered, unguessable version ids: 8 hex digits of seconds, then 8 random bytes. */
function newVersionId(nowMs: number): string {
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}
