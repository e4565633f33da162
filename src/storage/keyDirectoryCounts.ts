/**
 * How many entries each key directory of the kept bytes holds (retainedBytes.ts: one directory
 * per second of version ids), for the directories this process made itself. Removing a version
 * then tries to remove its directory only when it was the last entry there: before, every prune
 * tried, and nearly every try failed (the directory held the other versions of its second), a
 * thread-pool round trip and an error object each time on every overwrite (perf, wrk with 16
 * connections overwriting 4 KiB files).
 *
 * The counts are a hint, never a fact the disk must agree with: a directory this process did not
 * make (one from before a restart) is not counted, and removing from it tries as before; when a
 * try meets a directory that is not empty after all, or gone, its count is dropped. A count that
 * reaches zero is dropped too (the directory is removed then). At most `limit` directories are
 * counted; the longest counted goes first.
 */
export class KeyDirectoryCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit = 4096) {}

  /** `dir` was just made, empty, by this process. */
  created(dir: string): void {
    this.counts.delete(dir);
    this.counts.set(dir, 0);
    if (this.counts.size > this.limit) this.counts.delete(this.counts.keys().next().value!);
  }

  /** An entry was placed in `dir`. */
  placed(dir: string): void {
    const n = this.counts.get(dir);
    if (n !== undefined) this.counts.set(dir, n + 1);
  }

  /** An entry of `dir` is gone: false when `dir` surely holds others, true when it may be empty now (or is not counted). */
  removedMayEmpty(dir: string): boolean {
    const n = this.counts.get(dir);
    if (n === undefined) return true;
    if (n > 1) {
      this.counts.set(dir, n - 1);
      return false;
    }
    this.counts.delete(dir);
    return true;
  }

  /** `dir` is not as counted (a removal refused, or it is gone): no longer counted. */
  forget(dir: string): void {
    this.counts.delete(dir);
  }

  /** Nothing is counted any more (the directories were swept). */
  forgetAll(): void {
    this.counts.clear();
  }

  /** How many directories are counted (for tests). */
  get size(): number {
    return this.counts.size;
  }
}
