/**
 * Filesystem calls the main thread makes itself instead of through libuv's thread pool.
 *
 * A thread-pool round trip costs far more than a call the kernel answers from memory: under small
 * PUTs (12 round trips each), waking a pool thread (a futex, an interrupt to the other CPU) took a
 * quarter of the main thread's time on this 2-core machine (perf), and every pool thread paid as
 * much again to sleep and wake. So calls that only read or change what is already in memory are
 * made inline: the realpath of existing directories, lstat (which can wait briefly for a
 * directory lock a create of ours holds, and is still cheaper inline: containment.ts), fstat,
 * fchmod, futimes and close of a file we opened, a small write into its page cache, opening a
 * directory to sync it. Creating, renaming and syncing stay in the pool: they hold the directory's
 * lock or wait for the disk.
 *
 * Should the filesystem answer slowly after all (a network filesystem, a disk throttling writers),
 * one inline call slower than SLOW_MS turns inline calls off for PAUSE_MS, so the event loop stalls
 * behind the filesystem for at most one call in that time.
 *
 * Usage: `inlineAllowed() ? inline(() => fstatSync(fd)) : await fstatAsync(fd)`.
 */

/**
 * An inline call slower than this pauses them: a thousand times a cached metadata call, and more
 * than a busy machine's scheduler keeps the main thread waiting for a CPU (2 ms tripped under
 * load on this 2-core machine, where twenty threads share two CPUs), yet short beside what a
 * network filesystem or a throttled disk makes a call wait.
 */
const SLOW_MS = 20;
const PAUSE_MS = 10_000;

let pausedUntil = 0;

/** True unless an inline call was slow in the last PAUSE_MS. */
export function inlineAllowed(): boolean {
  if (pausedUntil === 0) return true;
  if (Date.now() < pausedUntil) return false;
  pausedUntil = 0;
  return true;
}

/** Runs the blocking `call` now; if it was slow, inline calls pause (inlineAllowed() is false). */
export function inline<T>(call: () => T): T {
  const started = performance.now();
  try {
    return call();
  } finally {
    if (performance.now() - started > SLOW_MS) pausedUntil = Date.now() + PAUSE_MS;
  }
}

/** For tests: whether inline calls are paused, and a way to end the pause. */
export const inlineCallsForTests = {
  paused: (): boolean => !inlineAllowed(),
  resume: (): void => {
    pausedUntil = 0;
  },
};
