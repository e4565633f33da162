/**
 * DELETE, MOVE and COPY of whole resources with their metadata: the one place where dead
 * properties, versions and locks follow the filesystem (architecture rule 6). Each change is
 * journaled: the intent (and the pending row of what it moves into retention) first, then the
 * filesystem steps, then one commit. `recover()` at start-up completes or rolls back every
 * intent by what is on disk, so after a crash the served tree is the old or the new state and
 * every byte removed is listed as a retained version.
 */
import type { Intent, IntentOperation, StateAccess, StateStore } from '../../state/stateStore';
import type { ResourceStore, ResourceStat } from '../../storage/resourceStore';
import { VersionStore } from '../../versions/versionStore';
import type { RetentionStore, RetentionReason, EtagOf, PendingVersion, ScannedRow } from '../../versions/retention';
import type { DavPath } from '../../paths/davPath';
import { crashPoint } from '../../faults/crashPoint';
import { settleOrphanBytes } from '../../versions/orphanBytes';
import { keptProperties } from '../../versions/keptProperties';
import { StateUnavailableError } from '../../state/postgres/stateUrl';
import { CommitOutstandingError } from '../../concurrency/outstandingCommit';
import { errnoOf, TooDeepToKeepError } from '../../storage/storageErrors';

type ScannedRows = ScannedRow[];

/** Paths whose dead properties are read at once when a tree is moved into retention. */
const PROPERTY_BATCH = 500;

/**
 * How long a request waits for an unreachable state database to take the commit after its
 * filesystem step (the lease's time: no neighbour judges this instance sooner after an outage),
 * and the pauses between attempts; after that it answers 503 and goes on trying every few seconds.
 */
const COMMIT_WAIT_MS = 10_000;
const COMMIT_PAUSES_MS = [100, 250, 500, 1000, 2000];

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** What a COPY or MOVE onto an existing resource moved out of the way (null: nothing, or retention off). */
interface MovedAside {
  pending: PendingVersion | null;
  rows: ScannedRows;
}

export class TreeOperations {
  constructor(
    private readonly state: StateStore,
    private readonly store: ResourceStore,
    private readonly retention: RetentionStore,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private record(op: IntentOperation, src: DavPath, dst: DavPath | null, depth: '0' | 'infinity' = 'infinity', mtimeMs: number | null = null, tx: StateAccess = this.state): Promise<number> {
    return tx.journal.record({ op, src, dst, depth, mtime_ms: mtimeMs });
  }

  /**
   * Journals the intent and, when the operation moves `aside` into retention, its pending tree,
   * in ONE transaction: recovery judges a COPY onto a tree by that pending row ("was the old target
   * moved aside?"), so an intent without it, left by a crash between two commits, made recovery
   * take the untouched old target for a finished copy and drop its properties.
   */
  private begin(op: IntentOperation, src: DavPath, dst: DavPath | null, depth: '0' | 'infinity', aside: DavPath | null, reason: RetentionReason = 'delete'): Promise<{ id: number; pending: PendingVersion | null }> {
    return this.state.transaction(async (tx) => {
      const id = await this.record(op, src, dst, depth, null, tx);
      crashPoint(`${op}:recorded`);
      const pending = aside === null ? null : await this.retention.beginTree(aside, reason, id, tx);
      return { id, pending };
    });
  }

  /**
   * Removes a resource (a whole tree for a collection) with its properties and versions.
   * What it held is moved into retention (one rename) unless retention is off, so it can be
   * restored; its files are listed as versions in the same transaction that forgets its metadata.
   * Locks rooted inside go too (RFC 4918 §9.6.1). Throws the store's error when part of it could not be removed.
   */
  async remove(path: DavPath, options: { reason?: RetentionReason } = {}): Promise<void> {
    // A DELETE is how a client frees space: on a disk too full to journal it, the ballast gives way.
    const { id, pending } = await this.retention.freeingSpace(() => this.begin('delete', path, null, 'infinity', path, options.reason ?? 'delete'));
    crashPoint('delete:intent');
    let aside: MovedAside = { pending: null, rows: [] };
    try {
      aside = await this.moveAside(path, pending);
      crashPoint('delete:moved');
    } finally {
      const gone = (await this.store.stat(path)) === null;
      await this.commitAfterStep(id, `DELETE of ${path}`, async (tx) => {
        await this.settleAside(pending, aside, tx);
        if (gone) await this.forget(path, false, tx);
      }, () => this.pruneAfter(aside));
    }
    crashPoint('delete:committed');
  }

  /**
   * Renames `src` to `dst`; properties, versions and the retained history move along, locks
   * stay behind (RFC 4918 §9.9). With `replace`, the existing `dst` is moved into retention first
   * (a lock on its URL stays, RFC 4918 §7.6), and put back if the rename fails or never happened.
   */
  async move(src: DavPath, dst: DavPath, options: { replace?: boolean } = {}): Promise<void> {
    // What a COPY or MOVE replaces is kept as overwritten, as by PUT, not as deleted.
    const { id, pending } = await this.begin('move', src, dst, 'infinity', options.replace ? dst : null, 'overwrite');
    crashPoint('move:intent');
    const aside = await this.replaceStep(id, dst, options.replace ?? false, pending, () => this.store.move(src, dst));
    crashPoint('move:renamed');
    await this.commitAfterStep(id, `MOVE of ${src} to ${dst}`, async (tx) => {
      await this.settleAside(pending, aside, tx);
      await this.moveMetadata(src, dst, tx);
    }, () => this.pruneAfter(aside));
    crashPoint('move:committed');
  }

  /**
   * Copies `src` onto `dst` with its dead properties; locks are not copied (RFC 4918 §7.6). With
   * `replace`, the existing `dst` is moved into retention first, as for move.
   */
  async copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity', options: { replace?: boolean } = {}): Promise<void> {
    const { id, pending } = await this.begin('copy', src, dst, depth, options.replace ? dst : null, 'overwrite');
    crashPoint('copy:intent');
    const aside = await this.replaceStep(id, dst, options.replace ?? false, pending, () => this.store.copy(src, dst, depth));
    crashPoint('copy:copied');
    await this.commitAfterStep(id, `COPY of ${src} to ${dst}`, async (tx) => {
      await this.settleAside(pending, aside, tx);
      await this.replacedMetadata(dst, tx);
      await tx.properties.copySubtree(src, dst, depth);
    }, () => this.pruneAfter(aside));
    crashPoint('copy:committed');
  }

  /**
   * PROPPATCH of dead properties with a modification time (RFC 4918 §9.2: all or nothing, also
   * across a crash): the intent and the properties in one transaction, then the time on disk,
   * then the commit; recovery sets a time the crash left unset. Returns the file's new stat.
   */
  async setPropertiesAndTime(path: DavPath, mtimeMs: number, applyProperties: (tx: StateAccess) => Promise<void>): Promise<ResourceStat> {
    const before = await this.store.stat(path);
    const id = await this.state.transaction(async (tx) => {
      await applyProperties(tx);
      return this.record('touch', path, null, '0', mtimeMs, tx);
    });
    crashPoint('proppatch:properties-set');
    const after = await this.store.setModifiedTime(path, mtimeMs);
    crashPoint('proppatch:mtime-set');
    await this.commitAfterStep(id, `PROPPATCH of ${path}`, async (tx) => {
      if (before && !before.isCollection) await VersionStore.over(tx.versions).recordMetadataChange(path, before, after);
    });
    return after;
  }

  /**
   * The commit that follows a journaled filesystem step: `record` and the completion of intent
   * `id`, in one transaction, then `afterwards`. The files have changed, so their record must
   * follow them, by this process while it can: when the state database is unreachable (--state
   * postgres://), the commit is tried again for COMMIT_WAIT_MS, and then in the background until it
   * is made, while the request answers 503 with a CommitOutstandingError and its write claim stays
   * in force (writeClaims.ts), so nobody writes into the trees it covers before their record is
   * right. A recovery after this process's death (lease.ts) would otherwise judge the step by the
   * disk as it is then, and overwrite what others wrote there since. A retry whose intent is gone
   * (a neighbour's recovery settled it after fencing this instance) records nothing.
   */
  private async commitAfterStep(id: number, operation: string, record: (tx: StateAccess) => Promise<void>, afterwards: () => Promise<void> = async () => undefined): Promise<void> {
    const commit = () =>
      // A disk too full for the commit (SQLITE_FULL): the space ballast gives way.
      this.retention.freeingSpace(() =>
        this.state.transaction(async (tx) => {
          if (await tx.journal.complete(id)) await record(tx);
        }),
      );
    const deadline = performance.now() + COMMIT_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await commit();
        break;
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err;
        if (performance.now() >= deadline) throw new CommitOutstandingError(operation, err, this.commitLater(operation, commit, afterwards));
        await pause(COMMIT_PAUSES_MS[Math.min(attempt, COMMIT_PAUSES_MS.length - 1)]);
      }
    }
    await afterwards();
  }

  /** Goes on trying `commit` while the state database is unreachable; resolves once it is made. */
  private async commitLater(operation: string, commit: () => Promise<void>, afterwards: () => Promise<void>): Promise<void> {
    this.log(`${operation} was carried out on disk, but the state database is unreachable: its record is made when the database is back, and its paths answer 423 until then`);
    for (;;) {
      await pause(COMMIT_PAUSES_MS[COMMIT_PAUSES_MS.length - 1]);
      try {
        await commit();
        break;
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) {
          this.log(`${operation}: its record could not be made (${(err as Error).message}); the recovery of this instance settles it`);
          throw err;
        }
      }
    }
    this.log(`${operation}: its record is made, now that the state database is back`);
    await afterwards().catch(() => undefined);
  }

  /**
   * Finishes or rolls back what a crash left behind, judging by what is on disk: every intent
   * (with the trees it was moving into retention, while their ETags are still recorded), then the
   * pending versions of overwrites, then the retained bytes no version names.
   */
  async recover(): Promise<Intent[]> {
    const pending = await this.state.journal.pending();
    for (const intent of pending) {
      if (intent.op === 'touch') {
        await this.recoverTouch(intent);
        continue;
      }
      const srcExists = (await this.store.stat(intent.src)) !== null;
      const dstExists = intent.dst !== null && (await this.store.stat(intent.dst)) !== null;
      const trees = [];
      for (const tree of await this.retention.pendingTreesOf(intent.id)) trees.push({ tree, kept: (await this.store.keptFingerprint(tree.key)) !== null });
      // A delete happened when its source is gone; a move when the source went and the target is
      // there; a copy when the target is there (a copy appears at once, when complete) and is not
      // the old one it was to replace (still there when it was never moved aside).
      const happened = intent.op === 'delete' ? !srcExists
        : intent.op === 'move' ? !srcExists && dstExists
        : dstExists && trees.every((t) => t.kept);
      for (const { tree, kept } of trees) {
        if (kept && !happened && intent.op !== 'delete') {
          await this.store.putBack(tree.path, tree.key); // roll back: the target as it was
          await this.retention.dropTree(tree);
        } else if (kept && this.retention.enabled) {
          const rows = await this.withProperties(await this.retention.scanTree(tree, this.etagOf));
          await this.retention.recordTree(tree, rows);
        } else {
          // Never moved (a partial cross-filesystem copy: the source is whole), or retention is off.
          await this.store.removeKept(tree.key);
          await this.retention.dropTree(tree);
        }
      }
      await this.state.transaction(async (tx) => {
        if (intent.op === 'delete' && happened) await this.forget(intent.src, false, tx);
        if (intent.op === 'move' && happened && intent.dst) await this.moveMetadata(intent.src, intent.dst, tx);
        if (intent.op === 'copy' && happened && intent.dst) {
          await this.replacedMetadata(intent.dst, tx);
          await tx.properties.copySubtree(intent.src, intent.dst, intent.depth);
        }
        await tx.journal.complete(intent.id);
      });
    }
    await this.retention.recoverPending((p) => this.store.stat(p), this.etagOf);
    await settleOrphanBytes(this.retention, this.store, { freeLeftovers: true });
    return pending;
  }

  /** A PROPPATCH whose properties were stored: its modification time is set too (the ETag stays when the content is the one recorded). */
  private async recoverTouch(intent: Intent): Promise<void> {
    const before = await this.store.stat(intent.src);
    const after = before && intent.mtime_ms !== null ? await this.store.setModifiedTime(intent.src, intent.mtime_ms) : null;
    await this.state.transaction(async (tx) => {
      if (before && after && !before.isCollection) await VersionStore.over(tx.versions).recordMetadataChange(intent.src, before, after);
      await tx.journal.complete(intent.id);
    });
  }

  private readonly etagOf: EtagOf = (p, size, mtimeMs, ino) => VersionStore.over(this.state.versions).etagOf(p, { ino, size, mtimeMs });

  /** Moves `path` into retention under `pending` (or removes it when retention is off) and scans what was kept. */
  private async moveAside(path: DavPath, pending: PendingVersion | null): Promise<MovedAside> {
    if (!pending) {
      await this.store.remove(path);
      return { pending: null, rows: [] };
    }
    // With retention off the tree still leaves by one rename (so the step is atomic), and its bytes go after the commit.
    const moved = await this.store.moveOutAsKept(path, pending.key);
    if (!moved || !this.retention.enabled) return { pending: moved ? pending : null, rows: [] };
    try {
      return { pending, rows: await this.withProperties(await this.retention.scanTree(pending, this.etagOf)) };
    } catch (err) {
      // What cannot be listed as versions is not taken away: the tree goes back as it was.
      await this.store.putBack(path, pending.key);
      if (errnoOf(err) === 'ENAMETOOLONG') throw new TooDeepToKeepError(path, `${path}: a file in it is too deep to be kept as a version`, { cause: err });
      throw err;
    }
  }

  /**
   * `rows` with the dead properties their files have (read before the commit forgets them), so
   * that a restore brings them back; in batches, one round trip each with PostgreSQL.
   */
  private async withProperties(rows: ScannedRows): Promise<ScannedRows> {
    const out: ScannedRows = [];
    for (let at = 0; at < rows.length; at += PROPERTY_BATCH) {
      const batch = rows.slice(at, at + PROPERTY_BATCH);
      const { dead } = await this.state.recordsOfMembers(batch.map((r) => r.path));
      for (const row of batch) {
        const properties = keptProperties(dead.get(row.path));
        out.push(properties === null ? row : { ...row, properties });
      }
    }
    return out;
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
      await this.state.transaction(async (tx) => {
        if (pending) await this.retention.dropTree(pending, tx);
        await tx.journal.complete(id);
      });
      throw err;
    }
  }

  /** Inside the commit's transaction: the moved-aside tree's files become versions (or its row goes). */
  private async settleAside(pending: PendingVersion | null, aside: MovedAside, tx: StateAccess): Promise<void> {
    if (aside.pending && this.retention.enabled) await this.retention.recordTree(aside.pending, aside.rows, tx);
    else if (pending) await this.retention.dropTree(pending, tx);
  }

  private async pruneAfter(aside: MovedAside): Promise<void> {
    if (aside.pending && aside.rows.length === 0) await this.store.removeKept(aside.pending.key);
    if (aside.rows.length > 0) await this.retention.prune(aside.rows.map((r) => r.path));
  }

  private async forget(path: DavPath, keepLocks: boolean, tx: StateAccess): Promise<void> {
    await tx.properties.forgetSubtree(path);
    await tx.versions.forgetSubtree(path);
    if (!keepLocks) await tx.locks.removeWithin(path);
  }

  /**
   * A replaced target's properties and versions go. A lock rooted at the target's URL stays and
   * takes in what replaces it (RFC 4918 §7.6); locks rooted at its members go, for those were
   * deleted with it (§9.8.4, §9.9.3: as by DELETE, which destroys them, §9.6.1).
   */
  private async replacedMetadata(dst: DavPath, tx: StateAccess): Promise<void> {
    await tx.properties.forgetSubtree(dst);
    await tx.versions.forgetSubtree(dst);
    for (const lock of await tx.locks.within(dst)) if (lock.root !== dst) await tx.locks.release(lock.token);
  }

  private async moveMetadata(src: DavPath, dst: DavPath, tx: StateAccess): Promise<void> {
    await this.replacedMetadata(dst, tx);
    await tx.properties.moveSubtree(src, dst);
    await tx.versions.moveSubtree(src, dst);
    await this.retention.moveSubtree(src, dst, tx);
    await tx.locks.removeWithin(src);
  }
}
