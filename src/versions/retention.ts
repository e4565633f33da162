/**
 * Retained versions: what an overwrite, a DELETE, or a COPY/MOVE onto an existing target replaces
 * is kept under the state directory (never reachable by URL), by hard link or rename rather than
 * by copy, within a retention policy (count per path, age, total bytes). semantics.md, "Nothing is lost".
 *
 * Each retained file is one row: the DavPath it had, when and why it was retained, its size,
 * ETag and mtime, and the key of its kept bytes in the resource store (storage/resourceStore.ts):
 * keeping, moving out, putting back and opening the bytes are storage operations; this module
 * holds no bytes and no directory.
 *
 * Crash safety: the row is written first, as *pending* (with the inode of the bytes it will keep
 * and why), then the bytes are linked or moved, then the replacing step runs, then one commit
 * marks the row kept. `recoverPending` at start-up judges every pending row by the disk: bytes
 * never kept, or a target that still holds them, roll back; otherwise the version is committed.
 * Kept bytes no row names are then re-indexed, at start-up as by the scrub (orphanBytes.ts).
 */
import type { DavPath } from '../paths/davPath';
import { randomHex } from '../randomHex';
import type { PathNewest, RetentionReason, RetentionRow, StateAccess } from '../state/stateStore';
import type { FileBytes, ResourceStore } from '../storage/resourceStore';
import { hasReservedSegment } from '../storage/containment';
import { isNoSpace } from '../storage/storageErrors';
import { FreeSpaceGauge, type FreeSpaceReserve } from './freeSpaceReserve';

export type { RetentionReason } from '../state/stateStore';

/** A version (or a deleted tree) whose row is written but whose step is not committed yet. */
export interface PendingVersion {
  id: string;
  /** Where its bytes go among the kept bytes (ResourceStore.keptKeyOf). */
  key: string;
  path: DavPath;
}

/** A listed version as clients see it: the row's public facts, with the reason it was kept. */
export type RetainedVersion = Pick<RetentionRow, 'id' | 'path' | 'retainedAtMs' | 'size' | 'etag' | 'mtimeMs' | 'properties'> & { reason: RetentionReason };

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

const toVersion = (r: RetentionRow): RetainedVersion => ({
  id: r.id, path: r.path, retainedAtMs: r.retainedAtMs, size: r.size, etag: r.etag, mtimeMs: r.mtimeMs, reason: r.reason as RetentionReason,
  properties: r.properties ?? null,
});

/** The rows a moved-out tree's files become (RetentionStore.scanTree). */
export type ScannedRow = RetentionRow;

/** A file about to be retained, with the version facts the caller knows. */
export interface RetainedFileFacts {
  path: DavPath;
  etag: string;
  size: number;
  mtimeMs: number;
  /** The inode holding these bytes now (an overwrite gives the file a new one). */
  ino: number;
  /** The dead properties they had, to come back with them (keptProperties.ts); none when absent. */
  properties?: string | null;
}

/** The ETag a retained file had, from its path and fingerprint (VersionStore.etagOf). */
export type EtagOf = (path: DavPath, size: number, mtimeMs: number, ino: number) => Promise<string>;

/** The current fingerprint of a served file, or null when there is none (ResourceStore.stat). */
export type CurrentFile = (path: DavPath) => Promise<{ ino: number; isCollection: boolean } | null>;

/** How many of the oldest rows budget pruning reads at a time. */
const PRUNE_PAGE = 64;

export class RetentionStore {
  /**
   * When the age limit was last applied, by this process's monotonic clock: the check costs no
   * round trip to a shared state's clock, which only the cutoff itself needs.
   */
  private lastAgePruneAt = -Infinity;
  /** The kept bytes' free space against `policy.minFree`; null without a reserve. */
  private readonly freeSpace: FreeSpaceGauge | null;

  constructor(
    /** The state store holding the rows (StateStore.retention) and the clock (now()). */
    private readonly state: StateAccess,
    /** Where the bytes are kept: the resource store's kept bytes. */
    private readonly store: ResourceStore,
    private readonly policy: RetentionPolicy,
  ) {
    this.freeSpace = policy.minFree === undefined ? null : new FreeSpaceGauge(() => store.keptSpace(), policy.minFree);
  }

  get enabled(): boolean {
    return this.policy.maxVersionsPerPath > 0;
  }

  /** Versions of `path` (also of a deleted file), newest first. */
  async list(path: DavPath): Promise<RetainedVersion[]> {
    return (await this.state.retention.list(path)).map(toVersion);
  }

  /** Versions of `path` and of everything ever retained below it, by path, newest first within a path. */
  async listUnder(path: DavPath): Promise<RetainedVersion[]> {
    return (await this.state.retention.listUnder(path)).map(toVersion);
  }

  /** Paths at or below `path` with versions, newest first, a page at a time (StateStore.retention.newestUnder). */
  newestUnder(path: DavPath, limit: number, after?: PathNewest): Promise<PathNewest[]> {
    return this.state.retention.newestUnder(path, limit, after);
  }

  async get(id: string): Promise<RetainedVersion | undefined> {
    const row = await this.state.retention.get(id);
    return row && row.reason !== 'pending' ? toVersion(row) : undefined;
  }

  /** The bytes of a retained version; null when it is unknown or its bytes are missing. */
  async open(id: string): Promise<FileBytes | null> {
    const row = await this.state.retention.get(id);
    return row && row.reason !== 'pending' ? this.store.openKept(row.storage) : null;
  }

  /**
   * Step 1 of keeping the bytes an overwrite replaces: the pending row, before anything is
   * linked. The caller then has the bytes linked under `key` (ResourceStore.keepVersion), writes, and
   * calls `commit` (or `discard` when the write failed).
   */
  async beginKeep(facts: RetainedFileFacts, reason: RetentionReason): Promise<PendingVersion | null> {
    if (!this.enabled) return null;
    const now = await this.state.now();
    const id = newVersionId(now);
    const key = this.store.keptKeyOf(id);
    await this.state.retention.insert({
      id, path: facts.path, retainedAtMs: now, size: facts.size, etag: facts.etag, mtimeMs: facts.mtimeMs,
      reason: 'pending', storage: key, pendingReason: reason, sourceIno: facts.ino, pendingKind: 'file', intentId: null,
      properties: facts.properties ?? null,
    });
    return { id, key, path: facts.path };
  }

  /** The overwrite happened: the pending version becomes a listed one (through `tx` inside a transaction). */
  async commit(pending: PendingVersion, tx: StateAccess = this.state): Promise<void> {
    await tx.retention.commit(pending.id);
  }

  /**
   * Step 1 of moving a whole resource out of the served tree (DELETE, or a COPY/MOVE target
   * replaced): the pending row of the tree, before the rename (ResourceStore.moveOutAsKept). Then
   * `scanTree` and, in the transaction that commits the removal, `recordTree`.
   */
  async beginTree(path: DavPath, reason: RetentionReason, intentId: number, tx: StateAccess = this.state): Promise<PendingVersion> {
    const now = await tx.now();
    const id = newVersionId(now);
    const key = this.store.keptKeyOf(id);
    await tx.retention.insert({
      id, path, retainedAtMs: now, size: 0, etag: '', mtimeMs: 0,
      reason: 'pending', storage: key, pendingReason: reason, sourceIno: null, pendingKind: 'tree', intentId,
    });
    return { id, key, path };
  }

  /** The rows of every file the tree `pending` holds, once moved; no row is written yet. */
  async scanTree(pending: PendingVersion, etagOf: EtagOf): Promise<ScannedRow[]> {
    const reason = (await this.state.retention.get(pending.id))?.pendingReason ?? 'delete';
    const now = await this.state.now();
    const files = (await this.store.keptFiles(pending.key))
      .map((f) => ({ ...f, path: f.below === '' ? pending.path : `${pending.path}/${f.below}` }))
      .filter((f) => !hasReservedSegment(f.path));
    const rows: ScannedRow[] = [];
    for (const [i, f] of files.entries()) {
      rows.push({
        id: i === 0 ? pending.id : `${pending.id}-${i}`, path: f.path, retainedAtMs: now, size: f.size,
        etag: await etagOf(f.path, f.size, f.mtimeMs, f.ino), mtimeMs: f.mtimeMs, reason, storage: f.key,
        pendingReason: null, sourceIno: null, pendingKind: null, intentId: null,
      });
    }
    return rows;
  }

  /** Replaces the pending row of a tree with its files' versions (through `tx` inside the commit's transaction). */
  async recordTree(pending: PendingVersion, rows: readonly ScannedRow[], tx: StateAccess = this.state): Promise<void> {
    await tx.retention.replace(pending.id, rows);
  }

  /** A tree that was not moved after all (the rename failed): forgets its pending row. */
  async dropTree(pending: PendingVersion, tx: StateAccess = this.state): Promise<void> {
    await tx.retention.remove(pending.id);
  }

  /** The trees the journaled operation `intentId` was moving out when the process stopped. */
  async pendingTreesOf(intentId: number): Promise<PendingVersion[]> {
    return (await this.state.retention.pendingOfIntent(intentId)).map((r) => ({ id: r.id, key: r.storage, path: r.path }));
  }

  /** MOVE: the history of `from` and below follows it to `to` (through `tx` inside the move's transaction). */
  async moveSubtree(from: DavPath, to: DavPath, tx: StateAccess = this.state): Promise<void> {
    await tx.retention.moveSubtree(from, to);
  }

  /**
   * Start-up: completes or rolls back every pending row by what the disk says (see the header).
   * Runs before the intent journal is replayed, while the ETags of removed files are still known.
   * Returns how many versions were completed and how many rolled back.
   */
  async recoverPending(current: CurrentFile, etagOf: EtagOf): Promise<{ completed: number; rolledBack: number }> {
    let completed = 0;
    let rolledBack = 0;
    for (const row of await this.state.retention.pending()) {
      const pending = { id: row.id, key: row.storage, path: row.path };
      const kept = await this.store.keptFingerprint(row.storage);
      if (row.pendingKind === 'tree') {
        if (kept === null) {
          await this.store.removeKept(row.storage); // a partial cross-filesystem copy: the source is whole
          await this.dropTree(pending);
          rolledBack += 1;
        } else {
          const rows = await this.scanTree(pending, etagOf);
          await this.recordTree(pending, rows);
          if (rows.length === 0) await this.store.removeKept(row.storage);
          completed += 1;
        }
        continue;
      }
      const now = await current(row.path);
      const sourceIno = row.sourceIno ?? kept?.ino;
      // The write renames a new file over the target: the target still on the kept inode means it never landed.
      const landed = kept !== null && !(now && !now.isCollection && now.ino === sourceIno);
      if (landed) {
        await this.commit(pending);
        completed += 1;
      } else {
        await this.discard(row.id);
        rolledBack += 1;
      }
    }
    return { completed, rolledBack };
  }

  /**
   * Forgets a pending version whose bytes were put back in the served tree (a write undone).
   * Best effort: when the state disk refuses even this, start-up recovery settles the row.
   */
  async forgetPending(id: string): Promise<void> {
    try {
      await this.state.retention.remove(id);
    } catch {
      // recoverPending finds the bytes back at the target and rolls the row back.
    }
  }

  /** How many versions are listed, and the bytes of all kept (pending ones included). */
  totals(): Promise<{ count: number; bytes: number }> {
    return this.state.retention.totals();
  }

  /** Every listed version with the key of its kept bytes, oldest first. */
  async records(): Promise<Array<RetainedVersion & { storage: string }>> {
    return (await this.state.retention.listAll()).map((row) => ({ ...toVersion(row), storage: row.storage }));
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

  /** Records kept bytes found without a row (orphanBytes.ts: start-up and the scrub) as a listed version. */
  async adopt(version: RetainedVersion, storage: string): Promise<void> {
    await this.state.retention.insert({
      id: version.id, path: version.path, retainedAtMs: version.retainedAtMs, size: version.size, etag: version.etag, mtimeMs: version.mtimeMs,
      reason: version.reason, storage, pendingReason: null, sourceIno: null, pendingKind: null, intentId: null,
    });
  }

  /** Every storage path that has a row (pending ones included). */
  storagePaths(): Promise<Set<string>> {
    return this.state.retention.storagePaths();
  }

  /** Applies the whole policy now, to every path, the age limit included (the prune task). */
  async pruneAll(paths: readonly DavPath[]): Promise<number> {
    this.lastAgePruneAt = -Infinity;
    return this.prune(paths);
  }

  /** Every path that has listed versions. */
  versionedPaths(): Promise<DavPath[]> {
    return this.state.retention.listedPaths();
  }

  /** Forgets a version and frees its bytes (an overwrite that did not happen, or pruning). */
  async discard(id: string): Promise<void> {
    const row = await this.state.retention.remove(id);
    if (row) await this.store.removeKept(row.storage);
  }

  /**
   * Applies the retention policy: the per-path count for `touchedPaths`, then the total byte
   * budget (oldest first, exact, on every call), and the age limit (checked at most once a minute).
   */
  async prune(touchedPaths: readonly DavPath[] = []): Promise<number> {
    let pruned = 0;
    for (const path of new Set(touchedPaths)) {
      // The rows go in the same step that picks them, then their bytes (as discard does).
      for (const row of await this.state.retention.removeBeyondNewest(path, this.policy.maxVersionsPerPath)) {
        await this.store.removeKept(row.storage);
        pruned++;
      }
    }
    const doomed = new Set<string>();
    if (performance.now() - this.lastAgePruneAt >= 60_000) {
      this.lastAgePruneAt = performance.now();
      const cutoff = (await this.state.now()) - this.policy.maxAgeMs;
      for (const id of await this.state.retention.idsOlderThan(cutoff)) doomed.add(id);
    }
    for (const id of doomed) await this.discard(id);
    let bytes = await this.state.retention.keptBytes();
    while (bytes > this.policy.maxBytes) {
      const oldest = await this.state.retention.oldest(PRUNE_PAGE);
      if (oldest.length === 0) break;
      for (const row of oldest) {
        if (bytes <= this.policy.maxBytes) break;
        await this.discard(row.id);
        bytes -= row.size;
        doomed.add(row.id);
      }
    }
    for (const id of await this.keepFreeSpaceReserve(bytes)) doomed.add(id);
    return pruned + doomed.size;
  }

  /**
   * Prunes the oldest versions while the retention filesystem has less free space than the
   * reserve (a recent reading first, FreeSpaceGauge; a new one after each version freed).
   * `keptBytes`: what prune just counted (nothing kept, nothing to free).
   */
  private async keepFreeSpaceReserve(keptBytes: number): Promise<string[]> {
    if (this.freeSpace === null) return [];
    let space = await this.freeSpace.recent();
    // A space ballast given up on a full disk (spaceBallast.ts) is room to win back as well.
    const ballast = this.store.spaceBallastMissingBytes();
    const pruned: string[] = [];
    while (keptBytes > 0 && space.free < space.reserveBytes + ballast) {
      const oldest = await this.state.retention.oldest(PRUNE_PAGE);
      if (oldest.length === 0) break;
      for (const row of oldest) {
        await this.discard(row.id);
        pruned.push(row.id);
        space = await this.freeSpace.fresh();
        if (space.free >= space.reserveBytes + ballast) break;
      }
    }
    if (ballast > 0 && space.free >= space.reserveBytes + ballast) await this.store.ensureSpaceBallast();
    return pruned;
  }

  /**
   * Runs `write`, a state write that frees space or must follow a step already taken (a DELETE's
   * journal, the commit after a tree operation's files moved, pruning), which changes nothing when
   * it fails: when the disk is too full for it (SQLITE_FULL, ENOSPC), gives the space ballast up
   * and runs it once more (spaceBallast.ts).
   */
  async freeingSpace<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!isNoSpace(err) || !(await this.store.releaseSpaceBallast())) throw err;
      return write();
    }
  }
}

/** Time-ordered, unguessable version ids: 8 hex digits of seconds, then 8 random bytes. */
function newVersionId(nowMs: number): string {
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + randomHex(8);
}
