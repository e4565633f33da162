/**
 * How keepdav starts its helper threads (the hashing thread, contentDigests.ts; the listing
 * thread, listingThread.ts): from source text, with a small heap and none of the process's own
 * flags (a --require of the main thread is no business of a helper), and unreferenced, so an idle
 * helper never keeps a process alive. Whoever waits for an answer refs it meanwhile
 * (`worker.ref()`), or a command that ends after its last call could end before the answer.
 */
import { Worker } from 'node:worker_threads';

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

export function startWorkerThread<M>(source: string, options: WorkerThreadOptions<M>): Worker {
  const worker = new Worker(source, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb, maxOldGenerationSizeMb: 16 } });
  let stopped = false;
  const stop = (err: Error) => {
    if (stopped) return;
    stopped = true;
    options.onStopped(err);
  };
  worker.on('message', (message: M) => options.onMessage(message));
  worker.on('error', stop);
  worker.on('exit', (code) => stop(new Error(`the ${options.name} exited (${code})`)));
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  return worker;
}
