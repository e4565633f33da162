/**
 * The current version of recently read files, kept in memory so a GET of an unchanged file needs
 * no state look-up: an entry holds the ETag and digests together with the file's stat (inode,
 * size, mtime and ctime) they were read for, and is used only while the file's own stat still
 * shows exactly that. Every way a version record changes goes with a change on disk that moves
 * the ctime (new content is a new file renamed into place; a MOVE or a restore renames; a new
 * mtime is a utimes), and ctime cannot be set from user space, so an entry cannot outlive its
 * record, also when another instance sharing the tree and the state wrote it. A file is cached
 * only once its ctime is RACY_MS old, so a change within the same timestamp tick as the cached
 * stat cannot look unchanged (the "racy git" rule).
 *
 * Usage:
 *   const hit = cache.get(path, stat);      // undefined: look it up, then cache.set(path, stat, found, Date.now())
 *
 * Bounded: at most `capacity` entries; the least recently used one goes first.
 */
import type { ContentDigests } from '../storage/atomicWrite';
import type { DavPath } from '../paths/davPath';

export interface CurrentVersion {
  etag: string;
  digests: ContentDigests | null;
  /** The record still lacks a digest, being read back (digestCompletion.ts): not kept. */
  pending?: boolean;
}

/** The parts of a file's stat an entry is valid for. */
export interface CachedStat {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

interface Entry extends CurrentVersion, CachedStat {}

const RACY_MS = 2000;
export const DEFAULT_VERSION_CACHE_ENTRIES = 10_000;

export class CurrentVersionCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest first.
  private readonly entries = new Map<DavPath, Entry>();

  constructor(private readonly capacity = DEFAULT_VERSION_CACHE_ENTRIES) {}

  get(path: DavPath, s: CachedStat): CurrentVersion | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined) return undefined;
    this.entries.delete(path);
    if (entry.ino !== s.ino || entry.size !== s.size || entry.mtimeMs !== s.mtimeMs || entry.ctimeMs !== s.ctimeMs) return undefined;
    this.entries.set(path, entry);
    return entry;
  }

  /**
   * Remembers what was looked up for the file with stat `s` (taken before the look-up). A record
   * whose digests are still being read back (`pending`, digestCompletion.ts) is not kept: that
   * record changes without the file, the one exception to the rule above.
   */
  set(path: DavPath, s: CachedStat, current: CurrentVersion, nowMs: number): void {
    if (s.ctimeMs > nowMs - RACY_MS || current.pending === true) return;
    this.entries.delete(path);
    this.entries.set(path, { etag: current.etag, digests: current.digests, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as DavPath);
  }

  get size(): number {
    return this.entries.size;
  }
}
