/**
 * The current version of recently read files, kept in memory so a GET of an unchanged file needs
 * no state look-up: an entry holds the ETag and digests together with the fingerprint (inode,
 * size, mtime) they were read for, and is used only while the file's own stat still shows that
 * fingerprint. That is the same test the stored record passes (versionStore.ts): a file changed
 * on disk, by this instance or another one sharing the tree, no longer matches and is looked up
 * afresh. The owner forgets a path whenever it writes its record (a change that keeps the
 * fingerprint, such as a MOVE or a record rewritten by a scrub, is not visible on disk).
 *
 * Usage:
 *   const hit = cache.get(path, fingerprint);      // undefined: look it up, then cache.set(...)
 *   cache.forget(path); cache.clear();
 *
 * Bounded: at most `capacity` entries; the least recently used one goes first.
 */
import type { ContentDigests } from '../storage/atomicWrite';
import type { DavPath } from '../paths/davPath';
import type { FileFingerprint } from './versionStore';

export interface CurrentVersion {
  etag: string;
  digests: ContentDigests | null;
}

interface Entry extends CurrentVersion {
  ino: number;
  size: number;
  mtimeMs: number;
}

export const DEFAULT_VERSION_CACHE_ENTRIES = 10_000;

export class CurrentVersionCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest first.
  private readonly entries = new Map<DavPath, Entry>();

  constructor(private readonly capacity = DEFAULT_VERSION_CACHE_ENTRIES) {}

  get(path: DavPath, f: FileFingerprint): CurrentVersion | undefined {
    const entry = this.entries.get(path);
    if (entry === undefined) return undefined;
    if (entry.ino !== f.ino || entry.size !== f.size || entry.mtimeMs !== f.mtimeMs) {
      this.entries.delete(path);
      return undefined;
    }
    this.entries.delete(path);
    this.entries.set(path, entry);
    return entry;
  }

  set(path: DavPath, f: FileFingerprint, current: CurrentVersion): void {
    this.entries.delete(path);
    this.entries.set(path, { etag: current.etag, digests: current.digests, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as DavPath);
  }

  forget(path: DavPath): void {
    this.entries.delete(path);
  }

  clear(): void {
    this.entries.clear();
  }
}
