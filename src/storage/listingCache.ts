/**
 * Listings of collections kept between requests, so a PROPFIND (or a browser's listing) of a
 * collection that did not change reads neither the directory nor its members' inodes again: a
 * listing of 1,000 files was about 1,000 statx calls, over half of the server's CPU time for it.
 * listCollection.ts (openMemberBatches) fills and reads it; only read-only listings use it, never
 * what COPY, MOVE or DELETE walk.
 *
 * A kept listing is trusted only while all of these hold:
 * - inotify reported no change in the directory since before it was read (directoryWatch.ts). The
 *   queue is drained before every look-up, and the kernel queues a change inside the system call
 *   that makes it, so whatever a client (or another program) changed before the request came is seen.
 * - The directory is still the same one: its device, inode, modification and change times. A
 *   parent renamed away with another put in its place sends the old directory's watch nothing.
 * - It is younger than `ttlMs`: what inotify cannot see (a file written through a shared memory
 *   map, or through a hard link in another directory) shows within that time.
 * A kept listing holds only its files; members that are collections, and those that took the
 * careful path (symlinks), are looked up again each time (`recheck`): a subcollection's own times
 * change with its members, which this directory's watch does not see.
 *
 *   const kept = cache.lookup(path, host);            // null: read the directory
 *   const fill = cache.beginFill(path, host);         // null: this one cannot be watched
 *   fill?.add(batch, n); ... fill?.finish();          // kept only if nothing changed meanwhile
 */
import { statSync } from 'node:fs';
import type { DavPath } from '../paths/davPath';
import type { ResourceStat } from './resourceStat';
import { directoryWatch, WATCH_GONE, type DirectoryWatch } from './directoryWatch';

/**
 * One batch of a kept listing: its members as they were read, in directory order; which of them
 * are collections, to be looked up again; and the names that took the careful path.
 */
export interface KeptBatch {
  members: readonly ResourceStat[];
  recheck: readonly { at: number; name: string }[];
  careful: readonly string[];
}

export interface ListingCacheLimits {
  /** Files kept over all listings (each about 250 bytes of heap). */
  maxMembers: number;
  /** Listings kept (each one inotify watch). */
  maxListings: number;
  /** How long a kept listing is trusted at most. */
  ttlMs: number;
}

/**
 * 20,000 files, about 5 MiB: a listing of 10,000 and a few of 1,000. A second, so what inotify
 * cannot see is seen within one; a client listing the same collection 500 times a second reads it
 * once of those.
 */
export const LISTING_CACHE_LIMITS: ListingCacheLimits = { maxMembers: 20_000, maxListings: 64, ttlMs: 1_000 };

/** How long a directory that could not be watched is not tried again, and how many such are remembered. */
const REFUSAL_KEPT_MS = 60_000;
const MAX_REFUSED = 1024;

/** What tells the directory at a path from another put there. */
interface DirectoryIdentity {
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

interface KeptListing {
  path: DavPath;
  wd: number;
  identity: DirectoryIdentity;
  batches: KeptBatch[];
  members: number;
  keptAt: number;
}

function identityOf(host: string): DirectoryIdentity | null {
  try {
    const s = statSync(host, { throwIfNoEntry: false });
    return s?.isDirectory() ? { dev: s.dev, ino: s.ino, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs } : null;
  } catch {
    return null;
  }
}

function sameIdentity(a: DirectoryIdentity, b: DirectoryIdentity | null): boolean {
  return b !== null && a.dev === b.dev && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

export class ListingCache {
  private readonly kept = new Map<string, KeptListing>();
  /** Directories that could not be watched (not a local filesystem, no watches left), until when. */
  private readonly refused = new Map<string, number>();
  /** Per watch: changes seen, and how many kept listings and fills use it (unwatched at none). */
  private readonly watches = new Map<number, { changes: number; users: number }>();
  /** Bumped when the kernel's queue overflowed: every fill under way then started before a lost change. */
  private lostChanges = 0;
  private members = 0;
  private served = 0;
  private keptSoFar = 0;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly watch: DirectoryWatch,
    private readonly limits: ListingCacheLimits = LISTING_CACHE_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The kept listing of the collection `path` at `host`, when it is still exactly what a read would give. */
  lookup(path: DavPath, host: string): readonly KeptBatch[] | null {
    this.catchUp();
    const listing = this.kept.get(host);
    if (listing === undefined) return null;
    if (listing.path !== path || this.now() - listing.keptAt > this.limits.ttlMs || !sameIdentity(listing.identity, identityOf(host))) {
      this.forget(host, listing);
      return null;
    }
    this.served++;
    return listing.batches;
  }

  /** Starts keeping the listing of `path` at `host` about to be read; null when it cannot be watched. */
  beginFill(path: DavPath, host: string): ListingFill | null {
    this.catchUp();
    const refusedUntil = this.refused.get(host);
    if (refusedUntil !== undefined && refusedUntil > this.now()) return null;
    const wd = this.watch.watch(host);
    if (wd === null) {
      // Not asked again for a while: on NFS each refusal cost a statfs, a round trip to the server, per listing.
      if (this.refused.size >= MAX_REFUSED) this.refused.clear();
      this.refused.set(host, this.now() + REFUSAL_KEPT_MS);
      return null;
    }
    this.refused.delete(host);
    const identity = identityOf(host);
    const watch = this.use(wd);
    if (identity === null) {
      this.release(wd);
      return null;
    }
    const startedAt = { changes: watch.changes, lost: this.lostChanges };
    return new ListingFill(this.limits.maxMembers, (batches, members) => {
      this.catchUp();
      const unchanged = watch.changes === startedAt.changes && this.lostChanges === startedAt.lost && sameIdentity(identity, identityOf(host));
      if (unchanged && batches !== null) this.keep(host, { path, wd, identity, batches, members, keptAt: this.now() });
      this.release(wd);
    });
  }

  /** Members kept now, and listings served from here and kept since the start (for tests and metrics). */
  get counts(): { keptMembers: number; keptListings: number; served: number; kept: number } {
    return { keptMembers: this.members, keptListings: this.kept.size, served: this.served, kept: this.keptSoFar };
  }

  private keep(host: string, listing: KeptListing): void {
    const earlier = this.kept.get(host);
    if (earlier !== undefined) this.forget(host, earlier);
    // Oldest first: a Map iterates in insertion order.
    for (const [oldHost, old] of this.kept) {
      if (this.members + listing.members <= this.limits.maxMembers && this.kept.size < this.limits.maxListings) break;
      this.forget(oldHost, old);
    }
    this.use(listing.wd);
    this.kept.set(host, listing);
    this.members += listing.members;
    this.keptSoFar++;
    this.sweeper ??= setInterval(() => this.sweep(), this.limits.ttlMs).unref();
  }

  private forget(host: string, listing: KeptListing): void {
    if (this.kept.get(host) !== listing) return;
    this.kept.delete(host);
    this.members -= listing.members;
    this.release(listing.wd);
  }

  /** Drops the listings past their time, and their watches, so an idle server keeps nothing. */
  private sweep(): void {
    this.catchUp();
    const now = this.now();
    for (const [host, listing] of this.kept) if (now - listing.keptAt > this.limits.ttlMs) this.forget(host, listing);
    if (this.kept.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Applies every change inotify queued: each listing of a changed directory is forgotten. */
  private catchUp(): void {
    this.watch.drain(
      (wd, mask) => {
        const watch = this.watches.get(wd);
        if (watch === undefined) return;
        watch.changes++;
        for (const [host, listing] of this.kept) if (listing.wd === wd) this.forget(host, listing);
        if (mask & WATCH_GONE) this.watches.delete(wd);
      },
      () => {
        this.lostChanges++;
        for (const [host, listing] of this.kept) this.forget(host, listing);
      },
    );
  }

  private use(wd: number): { changes: number; users: number } {
    let watch = this.watches.get(wd);
    if (watch === undefined) this.watches.set(wd, (watch = { changes: 0, users: 0 }));
    watch.users++;
    return watch;
  }

  private release(wd: number): void {
    const watch = this.watches.get(wd);
    if (watch === undefined || --watch.users > 0) return;
    this.watches.delete(wd);
    this.watch.unwatch(wd);
  }
}

/** A listing being read to be kept: its batches as they come, kept by finish() if nothing changed meanwhile. */
export class ListingFill {
  private batches: KeptBatch[] | null = [];
  private members = 0;
  private done = false;

  constructor(
    private readonly maxMembers: number,
    private readonly end: (batches: KeptBatch[] | null, members: number) => void,
  ) {}

  add(batch: KeptBatch): void {
    if (this.batches === null) return;
    this.members += batch.members.length + batch.careful.length;
    if (this.members > this.maxMembers) this.batches = null;
    else this.batches.push(batch);
  }

  /** The whole listing was read: keep it if it may be. */
  finish(): void {
    this.close(this.batches);
  }

  /** The listing was not read to its end (closed early, failed): keep nothing. */
  abandon(): void {
    this.close(null);
  }

  private close(batches: KeptBatch[] | null): void {
    if (this.done) return;
    this.done = true;
    this.end(batches, this.members);
  }
}

let processCache: ListingCache | null | undefined;

/** The process's listing cache (one inotify instance for every store), or null where there is no directory watch. */
export function processListingCache(): ListingCache | null {
  if (processCache === undefined) {
    const watch = directoryWatch();
    processCache = watch === null ? null : new ListingCache(watch);
  }
  return processCache;
}
