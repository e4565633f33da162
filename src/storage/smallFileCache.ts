/**
 * The bytes of small, often read files, kept in memory within a byte budget, so a GET of an
 * unchanged file costs one lstat instead of open, fstat, read and close. An entry is used only
 * while the file's stat still shows the same device, inode, size, mtime and ctime as when it was
 * read. ctime cannot be set from user space and moves on every write, rename or chmod; to be safe
 * against a write landing in the same timestamp tick as the one cached, a file is cached only once
 * its ctime is at least RACY_MS in the past (the "racy git" rule).
 *
 * Usage:
 *   const bytes = cache.get(stat) ?? cache.remember(stat, await readTheFile(), Date.now());
 *
 * Bounded: files up to `maxFileBytes`, `budgetBytes` in all; the least recently used go first.
 */
import { unchangedSince, type ResourceStat, type StatIdentity } from './resourceStat';

const RACY_MS = 2000;

interface Entry extends StatIdentity {
  bytes: Buffer;
}

export class SmallFileCache {
  private readonly entries = new Map<string, Entry>();
  private heldBytes = 0;

  constructor(
    readonly maxFileBytes = 64 * 1024,
    private readonly budgetBytes = 8 * 1024 * 1024,
  ) {}

  /** The cached bytes of this very file version, or undefined. */
  get(stat: ResourceStat): Buffer | undefined {
    const entry = this.entries.get(stat.path);
    if (entry === undefined) return undefined;
    if (!unchangedSince(entry, stat)) {
      this.drop(stat.path, entry);
      return undefined;
    }
    this.entries.delete(stat.path);
    this.entries.set(stat.path, entry);
    return entry.bytes;
  }

  /** Keeps `bytes` (read after `stat` was taken) when the file qualifies; returns them. */
  remember(stat: ResourceStat, bytes: Buffer, nowMs: number): Buffer {
    if (bytes.length !== stat.size || bytes.length > this.maxFileBytes || stat.ctimeMs > nowMs - RACY_MS) return bytes;
    const old = this.entries.get(stat.path);
    if (old) this.drop(stat.path, old);
    const { isCollection, dev, ino, size, mtimeMs, ctimeMs } = stat;
    this.entries.set(stat.path, { isCollection, dev, ino, size, mtimeMs, ctimeMs, bytes });
    this.heldBytes += bytes.length;
    for (const [path, entry] of this.entries) {
      if (this.heldBytes <= this.budgetBytes) break;
      this.drop(path, entry);
    }
    return bytes;
  }

  get size(): number {
    return this.heldBytes;
  }

  private drop(path: string, entry: Entry): void {
    this.entries.delete(path);
    this.heldBytes -= entry.bytes.length;
  }
}
