/**
 * DELETE, MOVE and COPY of whole resources with their metadata: the one place where dead
 * properties, versions and locks follow the filesystem (architecture rule 6). Each change is
 * journaled first (intent, then the filesystem step, then one commit), so a crash anywhere is
 * repaired by `recover()` at start-up: the served tree is the old or the new state, and every
 * byte a DELETE removed is listed as a retained version.
 */
import type { StateDatabase } from '../../state/database';
import type { IntentJournal, Intent } from '../../state/intentJournal';
import type { FileStore } from '../../storage/fileStore';
import type { DeadPropertyStore } from '../../props/deadPropertyStore';
import type { VersionStore } from '../../versions/versionStore';
import type { LockManager } from '../../locks/lockManager';
import type { RetentionStore, RetentionReason, EtagOf } from '../../versions/retention';
import type { DavPath } from '../../paths/davPath';
import { crashPoint } from '../../faults/crashPoint';

export class TreeOperations {
  constructor(
    private readonly db: StateDatabase,
    private readonly journal: IntentJournal,
    private readonly store: FileStore,
    private readonly props: DeadPropertyStore,
    private readonly versions: VersionStore,
    private readonly locks: LockManager,
    private readonly retention: RetentionStore,
  ) {}

  /**
   * Removes a resource (a whole tree for a collection) with its properties and versions.
   * What it held is moved into retention (one rename) unless retention is off, so it can be
   * restored; its files are listed as versions in the same transaction that forgets its metadata.
   * Locks rooted inside go too (RFC 4918 §9.6.1), unless `keepLocks` (an overwrite that keeps the
   * URL's locks, RFC 4918 §7). Throws the store's error when part of it could not be removed.
   */
  async remove(path: DavPath, options: { keepLocks?: boolean; reason?: RetentionReason } = {}): Promise<void> {
    const id = this.journal.record('delete', path, null);
    const pending = this.retention.enabled ? this.retention.beginTree(path, options.reason ?? 'delete') : null;
    crashPoint('delete:intent');
    let moved = false;
    let rows: Awaited<ReturnType<RetentionStore['scanTree']>> = [];
    try {
      if (pending) moved = await this.store.moveOut(path, this.retention.bytes, pending.key);
      else await this.store.remove(path);
      crashPoint('delete:moved');
    } finally {
      if (pending && moved) rows = await this.retention.scanTree(pending, this.etagOf);
      const gone = (await this.store.stat(path)) === null;
      this.db.transaction(() => {
        if (pending && moved) this.retention.recordTree(pending, rows);
        else if (pending) this.retention.dropTree(pending);
        if (gone) this.forget(path, options.keepLocks ?? false);
        this.journal.complete(id);
      })();
      if (pending && moved && rows.length === 0) await this.retention.bytes.remove(pending.key);
    }
    crashPoint('delete:committed');
    if (rows.length > 0) await this.retention.prune(rows.map((r) => r.path));
  }

  /**
   * Renames `src` to `dst` (which must not exist); properties, versions and the retained history
   * move along, locks stay behind (RFC 4918 §9.9).
   */
  async move(src: DavPath, dst: DavPath): Promise<void> {
    const id = this.journal.record('move', src, dst);
    crashPoint('move:intent');
    try {
      await this.store.move(src, dst);
      crashPoint('move:renamed');
      this.db.transaction(() => {
        this.moveMetadata(src, dst);
        this.journal.complete(id);
      })();
      crashPoint('move:committed');
    } catch (err) {
      this.journal.complete(id);
      throw err;
    }
  }

  /** Copies `src` onto `dst` (which must not exist) with its dead properties; locks are not copied (RFC 4918 §7.6). */
  async copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity'): Promise<void> {
    const id = this.journal.record('copy', src, dst, depth);
    crashPoint('copy:intent');
    try {
      await this.store.copy(src, dst, depth);
      crashPoint('copy:copied');
      this.db.transaction(() => {
        this.props.copySubtree(src, dst, depth);
        this.journal.complete(id);
      })();
      crashPoint('copy:committed');
    } catch (err) {
      this.journal.complete(id);
      throw err;
    }
  }

  /**
   * Finishes or drops what a crash left behind, judging by what is on disk: first the pending
   * retained versions (while the ETags of removed files are still recorded), then the intents,
   * then the retained bytes no version names.
   */
  async recover(): Promise<Intent[]> {
    await this.retention.recoverPending((p) => this.store.stat(p), this.etagOf);
    const pending = this.journal.pending();
    for (const intent of pending) {
      const srcExists = (await this.store.stat(intent.src)) !== null;
      const dstExists = intent.dst !== null && (await this.store.stat(intent.dst)) !== null;
      this.db.transaction(() => {
        if (intent.op === 'delete' && !srcExists) this.forget(intent.src, false);
        if (intent.op === 'move' && !srcExists && dstExists && intent.dst) this.moveMetadata(intent.src, intent.dst);
        if (intent.op === 'copy' && dstExists && intent.dst) this.props.copySubtree(intent.src, intent.dst, intent.depth);
        this.journal.complete(intent.id);
      })();
    }
    await this.retention.sweepOrphans();
    return pending;
  }

  private readonly etagOf: EtagOf = (p, size, mtimeMs, ino) => this.versions.etagOf(p, { ino, size, mtimeMs });

  private forget(path: DavPath, keepLocks: boolean): void {
    this.props.forgetSubtree(path);
    this.versions.forgetSubtree(path);
    if (!keepLocks) this.locks.removeWithin(path);
  }

  private moveMetadata(src: DavPath, dst: DavPath): void {
    this.props.forgetSubtree(dst);
    this.versions.forgetSubtree(dst);
    this.props.moveSubtree(src, dst);
    this.versions.moveSubtree(src, dst);
    this.retention.moveSubtree(src, dst);
    this.locks.removeWithin(src);
  }
}
