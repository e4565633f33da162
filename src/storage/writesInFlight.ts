/**
 * How many atomic writes this process has under way. While one is, a blocking read of a directory
 * on the main thread can wait for the directory lock a worker thread's create or rename holds:
 * listCollection.ts then reads entries through the thread pool. (containment.ts's lstat no longer
 * asks: measured on small PUTs, going through the pool cost more than the rare wait; its own
 * guard, inlineCalls.ts, stops inline calls after a slow one.)
 *
 * Usage: `const done = beginWrite(); try { ... } finally { done(); }`; `writesInFlight() > 0`.
 */
let inFlight = 0;

export function beginWrite(): () => void {
  inFlight++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    inFlight--;
  };
}

export function writesInFlight(): number {
  return inFlight;
}
