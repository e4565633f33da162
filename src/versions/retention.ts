/**
 * Retained versions: what an overwrite, a DELETE, or a COPY/MOVE onto an existing target replaces
 * is kept under the state directory (never reachable by URL), by hard link or rename rather than
 * by copy, within a retention policy (count per path, age, total bytes). semantics.md, "Nothing is lost".
 *
 * Each retained file is one row: the DavPath it had, when and why it was retained, its size,
 * ETag and mtime, and where its bytes are kept (relative to the retention directory).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, link, rename, rm, copyFile, lstat, readdir, rmdir } from 'node:fs/promises';
import { join, dirname, relative, sep } from 'node:path';
import type { StateDatabase } from '../state/database';
import type { DavPath } from '../paths/davPath';

/** `recovered`: bytes a crash left in the retention directory without a record, re-indexed by a scrub. */
export type RetentionReason = 'overwrite' | 'delete' | 'restore' | 'recovered';

/** A hard link taken before an overwrite; recorded as a version only once the overwrite is done. */
export interface PendingVersion {
  id: string;
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
}

export class RetentionStore {
  private readonly insert;
  private readonly byPath;
  private readonly byId;
  private readonly deleteRow;
  private readonly markCommitted;
  private readonly selectPending;
  private readonly selectOlderThan;
  private readonly selectOldestFirst;
  private lastAgePruneMs = 0;
  /** Why each pending version (see retainFileByLink) will be retained once committed. */
  private readonly pendingReasons = new Map<string, RetentionReason>();
  /** Bytes of all recorded versions, kept exactly so the byte budget is enforced on every prune. */
  private totalBytes: number;
  /** Storage paths being moved or linked in whose rows are not written yet (a scrub must not adopt them). */
  private readonly arriving = new Set<string>();
  private readonly countRows;
  private readonly selectAll;

  constructor(
    private readonly db: StateDatabase,
    /** The retention directory (under the state directory). */
    readonly dir: string,
    private readonly policy: RetentionPolicy,
    private readonly clock: () => number = Date.now,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS retained_versions (
      id TEXT PRIMARY KEY, path TEXT NOT NULL, retained_at INTEGER NOT NULL, size INTEGER NOT NULL,
      etag TEXT NOT NULL, mtime_ms REAL NOT NULL, reason TEXT NOT NULL, storage TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS retained_versions_path ON retained_versions (path, retained_at)`);
    this.insert = db.prepare(
      'INSERT INTO retained_versions (id, path, retained_at, size, etag, mtime_ms, reason, storage) VALUES (@id, @path, @retained_at, @size, @etag, @mtime_ms, @reason, @storage)',
    );
    this.byPath = db.prepare<[string], Row>(
      "SELECT * FROM retained_versions WHERE path = ? AND reason != 'pending' ORDER BY retained_at DESC, rowid DESC",
    );
    this.byId = db.prepare<[string], Row>('SELECT * FROM retained_versions WHERE id = ?');
    this.deleteRow = db.prepare('DELETE FROM retained_versions WHERE id = ?');
    this.markCommitted = db.prepare('UPDATE retained_versions SET reason = ? WHERE id = ?');
    this.selectPending = db.prepare<[], { id: string }>("SELECT id FROM retained_versions WHERE reason = 'pending'");
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

  get(id: string): RetainedVersion | undefined {
    const row = this.byId.get(id);
    return row && row.reason !== 'pending' ? toVersion(row) : undefined;
  }

  /** Where the bytes of a retained version are, on the host. */
  contentPath(id: string): string | undefined {
    const row = this.byId.get(id);
    return row ? join(this.dir, row.storage) : undefined;
  }

  /**
   * Keeps the current bytes of a file that is about to be overwritten: a hard link, so the write
   * that follows (a rename over the target) leaves them here (a copy only across filesystems).
   * The version is pending until `commit` (the overwrite happened) or `discard` (it did not); a
   * crash in between leaves a pending row that start-up removes (`dropPending`).
   */
  async retainFileByLink(hostPath: string, facts: RetainedFileFacts, reason: RetentionReason): Promise<PendingVersion | null> {
    if (!this.enabled) return null;
    const id = newVersionId(this.clock());
    const storage = join(id.slice(0, 8), id);
    const target = join(this.dir, storage);
    await mkdir(dirname(target), { recursive: true });
    this.arriving.add(storage);
    try {
      try {
        await link(hostPath, target);
      } catch (err) {
        if (!isCode(err, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP')) throw err;
        await copyFile(hostPath, target);
      }
      this.insert.run({ id, path: facts.path, retained_at: this.clock(), size: facts.size, etag: facts.etag, mtime_ms: facts.mtimeMs, reason: 'pending', storage });
    } finally {
      this.arriving.delete(storage);
    }
    this.totalBytes += facts.size;
    this.pendingReasons.set(id, reason);
    return { id };
  }

  /** The overwrite happened: the pending version becomes a listed one; then the policy is applied. */
  async commit(pending: PendingVersion): Promise<void> {
    const reason = this.pendingReasons.get(pending.id) ?? 'overwrite';
    this.pendingReasons.delete(pending.id);
    this.markCommitted.run(reason, pending.id);
    const row = this.byId.get(pending.id);
    if (row) await this.prune([row.path]);
  }

  /** Removes what a crash left pending (start-up only). */
  async dropPending(): Promise<void> {
    for (const row of this.selectPending.all()) {
      await this.discard(row.id);
    }
  }

  /**
   * Moves a whole resource (a file or a collection tree) out of the served tree into retention,
   * by one rename. `factsOf` gives the version facts of each file found inside, by DavPath.
   * Returns the retained versions recorded.
   */
  async retainByMove(hostPath: string, path: DavPath, factsOf: (path: DavPath, size: number, mtimeMs: number, ino: number) => string, reason: RetentionReason): Promise<RetainedVersion[]> {
    const bundle = newVersionId(this.clock());
    const bundleDir = join(bundle.slice(0, 8), bundle);
    const target = join(this.dir, bundleDir);
    await mkdir(dirname(target), { recursive: true });
    this.arriving.add(bundleDir);
    try {
      return await this.moveIn(hostPath, path, target, bundle, factsOf, reason);
    } finally {
      this.arriving.delete(bundleDir);
    }
  }

  private async moveIn(hostPath: string, path: DavPath, target: string, bundle: string, factsOf: (path: DavPath, size: number, mtimeMs: number, ino: number) => string, reason: RetentionReason): Promise<RetainedVersion[]> {
    try {
      await rename(hostPath, target);
    } catch (err) {
      if (!isCode(err, 'EXDEV')) throw err;
      await copyTreeAcross(hostPath, target);
      await rm(hostPath, { recursive: true, force: true });
    }
    const rows: Row[] = [];
    const now = this.clock();
    const record = async (hostFile: string, davPath: DavPath): Promise<void> => {
      const st = await lstat(hostFile);
      if (st.isDirectory()) {
        for (const name of await readdir(hostFile)) await record(join(hostFile, name), `${davPath}/${name}`);
        return;
      }
      if (!st.isFile()) return;
      rows.push({
        id: rows.length === 0 ? bundle : `${bundle}-${rows.length}`,
        path: davPath,
        retained_at: now,
        size: st.size,
        etag: factsOf(davPath, st.size, st.mtimeMs, st.ino),
        mtime_ms: st.mtimeMs,
        reason,
        storage: relative(this.dir, hostFile).split(sep).join('/'),
      });
    };
    await record(target, path);
    this.db.transaction(() => {
      for (const row of rows) this.insert.run(row);
    })();
    for (const row of rows) this.totalBytes += row.size;
    if (rows.length === 0) await rm(target, { recursive: true, force: true });
    return rows.map(toVersion);
  }

  /** How many versions are listed, and the bytes of all kept (pending ones included). */
  totals(): { count: number; bytes: number } {
    return { count: this.countRows.get()!.n, bytes: this.totalBytes };
  }

  /** Every listed version with where its bytes are (relative to the retention directory), oldest first. */
  *records(): IterableIterator<RetainedVersion & { storage: string }> {
    for (const row of this.selectAll.iterate()) yield { ...toVersion(row), storage: row.storage };
  }

  /** Whether bytes at `storage` (relative, "/"-separated) have a row, or are being retained right now. */
  isKnownStorage(storage: string, rowIds: ReadonlySet<string>): boolean {
    for (const arriving of this.arriving) if (storage === arriving || storage.startsWith(arriving + '/')) return true;
    return rowIds.has(storage);
  }

  /** Records bytes found in the retention directory without a row (a scrub's re-index) as a listed version. */
  adopt(version: RetainedVersion, storage: string): void {
    this.insert.run({ id: version.id, path: version.path, retained_at: version.retainedAtMs, size: version.size, etag: version.etag, mtime_ms: version.mtimeMs, reason: version.reason, storage });
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
    this.pendingReasons.delete(id);
    const file = join(this.dir, row.storage);
    await rm(file, { force: true });
    // Remove directories the bundle no longer needs, up to the retention directory.
    for (let dir = dirname(file); dir.startsWith(this.dir + sep) && dir !== this.dir; dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
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
    return doomed.size;
  }
}

/** Time-ordered, unguessable version ids: 8 hex digits of seconds, then 8 random bytes. */
function newVersionId(nowMs: number): string {
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException)?.code ?? '');
}

async function copyTreeAcross(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  if (st.isDirectory()) {
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) await copyTreeAcross(join(from, name), join(to, name));
  } else if (st.isFile()) {
    await copyFile(from, to);
  }
}
