/**
 * One full garbage collection once the server has gone quiet, so that a server left alone holds
 * what it needs and not what its last busy minute left behind.
 *
 * V8 shrinks its heap by itself only when its memory reducer is running, which a major
 * collection during the busy time starts; after a run of GETs, listings, uploads and locks it
 * often is not, and the young generation (8 MiB at keepdav's 4 MiB semi-spaces) and the dead
 * request buffers outside the heap stay. Measured, a server that had served that mix idled at
 * 95 MiB for as long as it was left alone; one collection, 13 ms, brought it to 81 (young
 * generation 8 MiB to 1, 5 MiB of dead buffers freed).
 *
 * The check runs every `checkEveryMs` and costs nothing per request beyond a counter: the
 * collection comes once per quiet spell, between one and two checks after the last request ended
 * (and once at the first check after start, start-up being a busy spell too), and never while one
 * is in flight. Needs node's --expose-gc (bin/keepdav.js passes it); without
 * it there is no collection. After the collection, the memory it and the busy spell freed inside
 * malloc is given back to the system (mallocTrim.ts), where that helper was built.
 */
import { setFlagsFromString } from 'node:v8';
import type { RequestObserver } from '../http/edge';

/**
 * Whether compacting gives memory back on this V8. On Node.js 20 (V8 11) it did: a plain full
 * collection frees dead objects but leaves the old generation's pages where live ones are
 * scattered (after a mix of GETs, listings, uploads and locks, 14.7 MiB of pages for 9.1 MiB of
 * objects), and compacting moved them together: 9.7 MiB of pages, 4.5-5.6 MiB less resident once
 * quiet, 22 ms once per quiet spell. On Node.js 24 (V8 13) the pages a compaction empties stay in
 * V8's own page pool: the same server held 6-7 MiB more with it than without. Node.js 22 (V8 12)
 * was not measured, and gets the plain collection.
 */
export const COMPACTION_GIVES_BACK = Number(process.versions.v8.split('.')[0]) <= 11;

/**
 * A full collection, when node was started with --expose-gc (`gc` on the global object); else
 * null. It compacts when `compacting` (V8's --compact-on-every-full-gc, set for this one
 * collection only).
 */
export function fullCollection(
  global: { gc?: unknown } = globalThis,
  compacting = COMPACTION_GIVES_BACK,
  setV8Flags: (flags: string) => void = setFlagsFromString,
): (() => void) | null {
  const gc = global.gc;
  if (typeof gc !== 'function') return null;
  if (!compacting) return () => (gc as () => void)();
  /** V8 may refuse flags once running (a build that freezes them): then the collection is a plain one. */
  const trySetting = (flags: string): void => {
    try {
      setV8Flags(flags);
    } catch {
      // plain collection
    }
  };
  return () => {
    trySetting('--compact-on-every-full-gc');
    try {
      (gc as () => void)();
    } finally {
      trySetting('--no-compact-on-every-full-gc');
    }
  };
}

/**
 * What to do once quiet: the collection, then the trim of malloc's free memory, either of which
 * may be missing (null when neither is there). The trim comes `trimAfterMs` after the collection:
 * V8 frees the memory of the buffers a collection found dead on a background thread, after it.
 */
export function quietCleanUp(collect: (() => void) | null, trim: (() => unknown) | null, trimAfterMs = 250): (() => void) | null {
  if (collect === null && trim === null) return null;
  return () => {
    collect?.();
    if (trim !== null) setTimeout(trim, collect === null ? 0 : trimAfterMs).unref();
  };
}

export interface QuietCollection extends RequestObserver {
  stop(): void;
}

export function startQuietCollection(collect: (() => void) | null, checkEveryMs = 5_000): QuietCollection {
  let started = 0;
  let inFlight = 0;
  /** `started` at the previous check, and when the last collection ran. */
  let startedAtCheck = 0;
  // Start-up is a busy spell of its own (modules compiled, the state opened, the sweep of a crash's
  // leftovers): its young generation and garbage go at the first quiet check, not at the first
  // request's. Measured on a root of 10,000 files: 69.3 MiB after start, 61.1 after it. Not
  // sooner: V8 gives back the young generation's pages only once its allocation rate over the
  // last 5 s is low (the same collection 1, 2 or 3 s after start freed nothing: 69.9 to 68.2).
  let startedAtCollection = -1;
  const timer = collect === null ? null : setInterval(() => {
    if (started !== startedAtCheck) {
      startedAtCheck = started; // busy since the last check: wait for a quiet one
      return;
    }
    if (inFlight > 0 || started === startedAtCollection) return;
    startedAtCollection = started;
    collect();
  }, checkEveryMs);
  timer?.unref();
  return {
    requestStarted() {
      started++;
      inFlight++;
    },
    requestFinished() {
      inFlight--;
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
