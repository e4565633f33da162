/**
 * DELETE, MOVE and COPY of whole resources with their metadata: the one place where dead
 * properties, versions and locks follow the filesystem (architecture rule 6). Each change is
 * journaled: the intent (and the pending row of what it moves into retention) first, then the
 * filesystem steps, then one commit. `recover()` at start-up completes or rolls back every
 * intent by what is on disk, so after a crash the served tree is the old or the new state and
 * every byte removed is listed as a retained version.
 */
import type { StateDatabase } from '../../state/database';
import type { IntentJournal, Intent } from '../../state/intentJournal';
import type { ResourceStore, ResourceStat } from '../../storage/resourceStore';
import type { DeadPropertyStore } from '../../props/deadPropertyStore';
import type { VersionStore } from '../../versions/versionStore';
import type { LockManager } from '../../locks/lockManager';
import type { RetentionStore, RetentionReason, EtagOf, PendingVersion } from '../../versions/retention';
import type { DavPath } from '../../paths/davPath';
import { crashPoint } from '../../faults/crashPoint';
import { settleOrphanBytes } from '../../versions/orphanBytes';

type ScannedRows = Awaited<ReturnType<RetentionStore['scanTree']>>;

/** What a COPY or MOVE onto an existing resource moved out of the way (null: nothing, or retention off). */
interface MovedAside {
  pending: PendingVersion | null;
  rows: ScannedRows;
}

export class TreeOperations {
  constructor(
    private readonly db: StateDatabase,
    private readonly journal: IntentJournal,
    private readonly store: ResourceStore,
    private readonly props: DeadPropertyStore,
    private readonly versions: VersionStore,
    private readonly locks: LockManager,
    private readonly retention: RetentionStore,
  ) {}

  /**
   * Removes a resource (a whole tree for a collection) with its properties and versions.
   * What it held is moved into retention (one rename) unless retention is off, so it can be
   * restored; its files are listed as versions in the same transaction that forgets its metadata.
   * Locks rooted inside go too (RFC 4918 §9.6.1). Throws the store's error when part of it could not be removed.
   */
  async remove(path: DavPath, options: { reason?: RetentionReason } = {}): Promise<void> {
    const id = this.journal.record('delete', path, null);
    const pending = this.retention.beginTree(path, options.reason ?? 'delete', id);
    crashPoint('delete:intent');
    let aside: MovedAside = { pending: null, rows: [] };
    try {
      aside = await this.moveAside(path, pending);
      crashPoint('delete:moved');
    } finally {
      const gone = (await this.store.stat(path)) === null;
      this.db.transaction(() => {
        this.settleAside(pending, aside);
        if (gone) this.forget(path, false);
        this.journal.complete(id);
      })();
    }
    crashPoint('delete:committed');
    await this.pruneAfter(aside);
  }

  /**
   * Renames `src` to `dst`; properties, versions and the retained history move along, locks
   * stay behind (RFC 4918 §9.9). With `replace`, the existing `dst` is moved into retention first
   * (its locks stay, RFC 4918 §7), and put back if the rename fails or never happened.
   */
  async move(src: DavPath, dst: DavPath, options: { replace?: boolean } = {}): Promise<void> {
    const id = this.journal.record('move', src, dst);
    const pending = options.replace ? this.retention.beginTree(dst, 'delete', id) : null;
    crashPoint('move:intent');
    const aside = await this.replaceStep(id, dst, options.replace ?? false, pending, () => this.store.move(src, dst));
    crashPoint('move:renamed');
    this.db.transaction(() => {
      this.settleAside(pending, aside);
      this.moveMetadata(src, dst);
      this.journal.complete(id);
    })();
    crashPoint('move:committed');
    await this.pruneAfter(aside);
  }

  /**
   * Copies `src` onto `dst` with its dead properties; locks are not copied (RFC 4918 §7.6). With
   * `replace`, the existing `dst` is moved into retention first, as for move.
   */
  async copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity', options: { replace?: boolean } = {}): Promise<void> {
    const id = this.journal.record('copy', src, dst, depth);
    const pending = options.replace ? this.retention.beginTree(dst, 'delete', id) : null;
    crashPoint('copy:intent');
    const aside = await this.replaceStep(id, dst, options.replace ?? false, pending, () => this.store.copy(src, dst, depth));
    crashPoint('copy:copied');
    this.db.transaction(() => {
      this.settleAside(pending, aside);
      this.replacedMetadata(dst);
      this.props.copySubtree(src, dst, depth);
      this.journal.complete(id);
    })();
    crashPoint('copy:committed');
    await this.pruneAfter(aside);
  }

  /**
   * PROPPATCH of dead properties with a modification time (RFC 4918 §9.2: all or nothing, also
   * across a crash): the intent and the properties in one transaction, then the time on disk,
   * then the commit; recovery sets a time the crash left unset. Returns the file's new stat.
   */
  async setPropertiesAndTime(path: DavPath, mtimeMs: number, applyProperties: () => void): Promise<ResourceStat> {
    const before = await this.store.stat(path);
    const id = this.db.transaction(() => {
      applyProperties();
      return this.journal.record('touch', path, null, '0', mtimeMs);
    })();
    crashPoint('proppatch:properties-set');
    const after = await this.store.setModifiedTime(path, mtimeMs);
    crashPoint('proppatch:mtime-set');
    this.db.transaction(() => {
      if (before && !before.isCollection) this.versions.recordMetadataChange(path, before, after);
      this.journal.complete(id);
    })();
    return after;
  }

  /**
   * Finishes or rolls back what a crash left behind, judging by what is on disk: every intent
   * (with the trees it was moving into retention, while their ETags are still recorded), then the
   * pending versions of overwrites, then the retained bytes no version names.
   */
  async recover(): Promise<Intent[]> {
    const pending = this.journal.pending();
    for (const intent of pending) {
      if (intent.op === 'touch') {
        await this.recoverTouch(intent);
        continue;
      }
      const srcExists = (await this.store.stat(intent.src)) !== null;
      const dstExists = intent.dst !== null && (await this.store.stat(intent.dst)) !== null;
      const trees = [];
      for (const tree of this.retention.pendingTreesOf(intent.id)) trees.push({ tree, kept: (await this.retention.bytes.fingerprint(tree.key)) !== null });
      // A delete happened when its source is gone; a move when the source went and the target is
      // there; a copy when the target is there (a copy appears at once, when complete) and is not
      // the old one it was to replace (still there when it was never moved aside).
      const happened = intent.op === 'delete' ? !srcExists
        : intent.op === 'move' ? !srcExists && dstExists
        : dstExists && trees.every((t) => t.kept);
      for (const { tree, kept } of trees) {
        if (kept && !happened && intent.op !== 'delete') {
          await this.store.putBack(tree.path, tree.key); // roll back: the target as it was
          this.retention.dropTree(tree);
        } else if (kept && this.retention.enabled) {
          const rows = await this.retention.scanTree(tree, this.etagOf);
          this.db.transaction(() => this.retention.recordTree(tree, rows))();
        } else {
          // Never moved (a partial cross-filesystem copy: the source is whole), or retention is off.
          await this.retention.bytes.remove(tree.key);
          this.retention.dropTree(tree);
        }
      }
      this.db.transaction(() => {
        if (intent.op === 'delete' && happened) this.forget(intent.src, false);
        if (intent.op === 'move' && happened && intent.dst) this.moveMetadata(intent.src, intent.dst);
        if (intent.op === 'copy' && happened && intent.dst) {
          this.replacedMetadata(intent.dst);
          this.props.copySubtree(intent.src, intent.dst, intent.depth);
        }
        this.journal.complete(intent.id);
      })();
    }
    await this.retention.recoverPending((p) => this.store.stat(p), this.etagOf);
    await settleOrphanBytes(this.retention, this.store, { freeLeftovers: true });
    return pending;
  }

  /** A PROPPATCH whose properties were stored: its modification time is set too (the ETag stays when the content is the one recorded). */
  private async recoverTouch(intent: Intent): Promise<void> {
    const before = await this.store.stat(intent.src);
    const after = before && intent.mtime_ms !== null ? await this.store.setModifiedTime(intent.src, intent.mtime_ms) : null;
    this.db.transaction(() => {
      if (before && after && !before.isCollection) this.versions.recordMetadataChange(intent.src, before, after);
      this.journal.complete(intent.id);
    })();
  }

  private readonly etagOf: EtagOf = (p, size, mtimeMs, ino) => this.versions.etagOf(p, { ino, size, mtimeMs });

  /** Moves `path` into retention under `pending` (or removes it when retention is off) and scans what was kept. */
  private async moveAside(path: DavPath, pending: PendingVersion | null): Promise<MovedAside> {
    if (!pending) {
      await this.store.remove(path);
      return { pending: null, rows: [] };
    }
    // With retention off the tree still leaves by one rename (so the step is atomic), and its bytes go after the commit.
    const moved = await this.store.moveOutAsKept(path, pending.key);
    const keep = moved && this.retention.enabled;
    return { pending: moved ? pending : null, rows: keep ? await this.retention.scanTree(pending, this.etagOf) : [] };
  }

  /**
   * Runs `step` (the rename or copy onto `dst`), first moving an existing `dst` aside when
   * `replace`; when the step fails the target is put back and the intent dropped.
   */
  private async replaceStep(id: number, dst: DavPath, replace: boolean, pending: PendingVersion | null, step: () => Promise<void>): Promise<MovedAside> {
    let aside: MovedAside = { pending: null, rows: [] };
    try {
      if (replace) aside = await this.moveAside(dst, pending);
      crashPoint('replace:aside');
      await step();
      return aside;
    } catch (err) {
      if (aside.pending) await this.store.putBack(dst, aside.pending.key);
      this.db.transaction(() => {
        if (pending) this.retention.dropTree(pending);
        this.journal.complete(id);
      })();
      throw err;
    }
  }

  /** Inside the commit's transaction: the moved-aside tree's files become versions (or its row goes). */
  private settleAside(pending: PendingVersion | null, aside: MovedAside): void {
    if (aside.pending && this.retention.enabled) this.retention.recordTree(aside.pending, aside.rows);
    else if (pending) this.retention.dropTree(pending);
  }

  private async pruneAfter(aside: MovedAside): Promise<void> {
    if (aside.pending && aside.rows.length === 0) await this.retention.bytes.remove(aside.pending.key);
    if (aside.rows.length > 0) await this.retention.prune(aside.rows.map((r) => r.path));
  }

  private forget(path: DavPath, keepLocks: boolean): void {
    this.props.forgetSubtree(path);
    this.versions.forgetSubtree(path);
    if (!keepLocks) this.locks.removeWithin(path);
  }

  /** A replaced target's properties and versions go; its locks stay on the URL (RFC 4918 §7). */
  private replacedMetadata(dst: DavPath): void {
    this.props.forgetSubtree(dst);
    this.versions.forgetSubtree(dst);
  }

  private moveMetadata(src: DavPath, dst: DavPath): void {
    this.replacedMetadata(dst);
    this.props.moveSubtree(src, dst);
    this.versions.moveSubtree(src, dst);
    this.retention.moveSubtree(src, dst);
    this.locks.removeWithin(src);
  }
}
