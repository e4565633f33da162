/**
 * What the only writer of the kept bytes (retainedBytes.ts; the owner of an embedded state)
 * remembers of what it did there, so that removing a version need not ask the disk:
 *
 * - How many entries each key directory holds (one directory per second of version ids), for the
 *   directories it made itself. Removing a version then tries to remove its directory only when
 *   it was the last entry there: before, every prune tried, and nearly every try failed (the
 *   directory held the other versions of its second), a thread-pool round trip and an error object
 *   each time on every overwrite (perf, wrk with 16 connections overwriting 4 KiB files).
 * - Whether a partial copy can lie beside a key: not once a sweep has removed them all, until a
 *   copy across filesystems begins (one failing access() per prune saved).
 *
 * The counts are a hint, never a fact the disk must agree with: a directory it did not make (one
 * from before a restart) is not counted, and removing from it tries as before; when a try meets a
 * directory that is not empty after all, or gone, its count is dropped. A count that reaches zero
 * is dropped too (the directory is removed then). At most `limit` directories are counted; the
 * longest counted goes first.
 */
export class SoleWriterMemory {
  private readonly counts = new Map<string, number>();
  /** True once a sweep removed every partial copy and no copy has begun since. */
  private noPartials = false;
  /** Copies across filesystems under way (each makes a partial copy first). */
  private copying = 0;

  constructor(private readonly limit = 4096) {}

  /** Key directory `dir` was just made, empty, by this process. */
  directoryMade(dir: string): void {
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

  /** A copy across filesystems begins: it makes a partial copy, left behind should it fail. */
  copyBegins(): void {
    this.noPartials = false;
    this.copying += 1;
  }

  copyEnded(): void {
    this.copying -= 1;
  }

  /** A sweep removed every partial copy and every empty directory: nothing is counted any more. */
  swept(): void {
    this.counts.clear();
    if (this.copying === 0) this.noPartials = true;
  }

  /** Whether a partial copy may lie beside a key. */
  get partialsMayExist(): boolean {
    return !this.noPartials;
  }

  /** How many directories are counted (for tests). */
  get size(): number {
    return this.counts.size;
  }
}
