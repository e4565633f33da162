/**
 * DELETE, MOVE and COPY of whole resources with their metadata: the one place where dead
 * properties, versions and locks follow the filesystem (architecture rule 6). Each change is
 * journaled first, so a crash between the filesystem step and the metadata step is repaired
 * by `recover()` at start-up.
 */
import type { StateDatabase } from '../../state/database';
import type { IntentJournal, Intent } from '../../state/intentJournal';
import type { FileStore } from '../../storage/fileStore';
import type { DeadPropertyStore } from '../../props/deadPropertyStore';
import type { VersionStore } from '../../versions/versionStore';
import type { LockManager } from '../../locks/lockManager';
import type { RetentionStore, RetentionReason } from '../../versions/retention';
import type { DavPath } from '../../paths/davPath';

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
   * restored. Locks rooted inside go too (RFC 4918 §9.6.1), unless `keepLocks` (an overwrite
   * that keeps the URL's locks, RFC 4918 §7). Throws the store's error when part of it could not be removed.
   */
  async remove(path: DavPath, options: { keepLocks?: boolean; reason?: RetentionReason } = {}): Promise<void> {
    const id = this.journal.record('delete', path, null);
    try {
      if (this.retention.enabled) {
        const etagOf = (p: DavPath, size: number, mtimeMs: number, ino: number) => this.versions.etagOf(p, { ino, size, mtimeMs });
        const retained = await this.retention.retainByMove(this.store.hostPathOf(path), path, etagOf, options.reason ?? 'delete');
        await this.retention.prune(retained.map((v) => v.path));
      } else {
        await this.store.remove(path);
      }
    } finally {
      const gone = (await this.store.stat(path)) === null;
      this.db.transaction(() => {
        if (gone) this.forget(path, options.keepLocks ?? false);
        this.journal.complete(id);
      })();
    }
  }

  /** Renames `src` to `dst` (which must not exist); properties and versions move along, locks stay behind (RFC 4918 §9.9). */
  async move(src: DavPath, dst: DavPath): Promise<void> {
    const id = this.journal.record('move', src, dst);
    try {
      await this.store.move(src, dst);
      this.db.transaction(() => {
        this.moveMetadata(src, dst);
        this.journal.complete(id);
      })();
    } catch (err) {
      this.journal.complete(id);
      throw err;
    }
  }

  /** Copies `src` onto `dst` (which must not exist) with its dead properties; locks are not copied (RFC 4918 §7.6). */
  async copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity'): Promise<void> {
    const id = this.journal.record('copy', src, dst, depth);
    try {
      await this.store.copy(src, dst, depth);
      this.db.transaction(() => {
        this.props.copySubtree(src, dst, depth);
        this.journal.complete(id);
      })();
    } catch (err) {
      this.journal.complete(id);
      throw err;
    }
  }

  /** Finishes or drops the intents a crash left behind, judging by what is on disk. */
  async recover(): Promise<Intent[]> {
    await this.retention.dropPending();
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
    return pending;
  }

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
    this.locks.removeWithin(src);
  }
}
