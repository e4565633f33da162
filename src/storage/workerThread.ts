/**
 * How keepdav starts its helper threads (the hashing thread, hashingThread.ts; the listing
 * thread, listingThread.ts): from source text, with a small heap and none of the process's own
 * flags (a --require of the main thread is no business of a helper), and unreferenced, so an idle
 * helper never keeps a process alive. Whoever waits for an answer refs it meanwhile
 * (`worker.ref()`), or a command that ends after its last call could end before the answer.
 *
 * A helper that has had nothing to do for 10 s is stopped (IdleStop), and the next call
 * starts another. Each helper is a V8 isolate of its own: a listing or a large upload left one
 * holding 11-18 MiB resident for the rest of the process's life, so a server that had been busy
 * once idled at 101 MiB against 64 after its start. Starting a helper again takes about 20 ms.
 *
 * A helper's young generation is its own `youngGenerationMb` only once the process-wide
 * --max-semi-space-size that bin/keepdav.js gives the main thread is set back to V8's default
 * (0): V8 reads that flag when it sets up each new isolate's heap, and it overrides the worker's
 * resourceLimits. The main isolate's heap was set up at start and keeps its 4 MiB semi-spaces.
 * Measured (PROPFIND Depth 1 of 1,000 files, 16 connections): the listing thread's new space
 * went from 8 MiB to 2, and the server's peak RSS from 109 to 101 MiB, at the same throughput.
 */
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';

export interface WorkerThreadOptions<M> {
  /** Megabytes of the helper's young generation (its old generation is 16). */
  youngGenerationMb: number;
  /** Each message the helper posts. */
  onMessage(message: M): void;
  /** Called once, when the helper fails or exits (also by terminate()). */
  onStopped(err: Error): void;
  /** Names the helper in the error of an exit. */
  name: string;
}

/** Told each time a helper has ended (observeHelperStops). */
const stopObservers = new Set<() => void>();

/**
 * Calls `observer` each time a helper thread has ended: its isolate's memory is then free, which
 * the server gives back to the system (serviceExtras.ts). Returns the function that removes it.
 */
export function observeHelperStops(observer: () => void): () => void {
  stopObservers.add(observer);
  return () => stopObservers.delete(observer);
}

/** How long a helper may sit idle before it is stopped. */
let idleStopMs = 10_000;

/**
 * Stops a helper once it has been idle for `idleStopMs`: `fellIdle()` (re)arms the timer each time
 * the helper has nothing left to do, and when it fires the helper is stopped only if it is still
 * idle (work that began meanwhile simply makes it fall idle again later). The timer never keeps
 * the process alive.
 */
export class IdleStop {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly isIdle: () => boolean, private readonly stop: () => void) {}

  fellIdle(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.isIdle()) this.stop();
    }, idleStopMs);
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** For tests: a shorter idle time before a helper is stopped (applies from the next time one falls idle). */
export const helperThreadsForTests = {
  setIdleStopMs: (ms: number): void => {
    idleStopMs = ms;
  },
};

export function startWorkerThread<M>(source: string, options: WorkerThreadOptions<M>): Worker {
  // Only isolates made from now on read it (Node.js 20 and 24 alike): see the module's comment.
  setFlagsFromString('--max-semi-space-size=0');
  const worker = new Worker(source, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb, maxOldGenerationSizeMb: 16 } });
  let stopped = false;
  const stop = (err: Error) => {
    if (stopped) return;
    stopped = true;
    options.onStopped(err);
  };
  worker.on('message', (message: M) => options.onMessage(message));
  worker.on('error', stop);
  worker.on('exit', (code) => {
    stop(new Error(`the ${options.name} exited (${code})`));
    for (const observer of stopObservers) observer();
  });
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  return worker;
}
