/**
 * The hashing thread: one worker thread of the process that hashes large uploads, and stored files
 * read back (contentDigests.ts says when each is used; storedFileDigests.ts reads the files). The
 * bytes come in 1 MiB batches whose memory moves to the worker and back (no second copy, and the
 * same few buffers serve every upload: memory that waits for a collection would double a large
 * upload's resident size), at most MAX_BATCHES_IN_FLIGHT ahead of the hashing (beyond that the
 * upload waits). The thread starts with the first job, stops once idle (workerThread.ts), and is
 * started again after a failure; a job it was doing when it failed is rejected (an upload then
 * reads its bytes back in place). Where native/contentHashes.c is built, uploads are hashed on
 * libuv's pool instead, with no second isolate (nativeHashing.ts): this thread serves an install
 * without a compiler.
 *
 * Usage (contentDigests.ts, nativeHashing.ts):
 *   const job = hashingThread().open(withMd5);   // job.take(chunks); await job.room(); await job.finish()
 */
import type { Worker } from 'node:worker_threads';
import type { ContentDigests } from './contentDigests';
import { IdleStop, startWorkerThread } from './workerThread';

/** The size of the batches an upload's bytes go to the thread in. */
export const BATCH_BYTES = 1024 * 1024;
/**
 * Batches of one upload given to the hasher and not yet hashed, at most; beyond that the upload
 * waits. Two keep the hasher busy while the next batch gathers, and hold little body memory that
 * V8 counts towards its next full collection (spentBodyBuffers.ts).
 */
export const MAX_BATCHES_IN_FLIGHT = 2;
/** Spent batch buffers kept for the next batches, at most. */
const MAX_FREE_BATCHES = MAX_BATCHES_IN_FLIGHT + 1;

/** The worker's side: a SHA-1 (and an MD5 when asked) per job id, updated in the order batches arrive. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
const hashesOf = (id, md5) => {
  let job = jobs.get(id);
  if (!job) jobs.set(id, (job = { sha1: createHash('sha1'), md5: md5 ? createHash('md5') : null }));
  return job;
};
parentPort.on('message', (m) => {
  if (m.kind === 'batch') {
    const job = hashesOf(m.id, m.md5);
    const bytes = new Uint8Array(m.buffer, 0, m.length);
    job.sha1.update(bytes);
    if (job.md5) job.md5.update(bytes);
    parentPort.postMessage({ kind: 'hashed', id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.kind === 'finish') {
    const job = hashesOf(m.id, m.md5);
    jobs.delete(m.id);
    parentPort.postMessage({ kind: 'digests', id: m.id, sha1: job.sha1.digest('hex'), md5: job.md5 ? job.md5.digest('hex') : null });
  } else if (m.kind === 'cancel') {
    jobs.delete(m.id);
  }
});
`;

/** One upload's hashing off the main thread: on this thread, or on libuv's pool (nativeHashing.ts). */
export interface HashingJob {
  /** Takes the body's next chunks, which are not changed afterwards. */
  take(chunks: readonly Buffer[]): void;
  /** Resolves once fewer than MAX_BATCHES_IN_FLIGHT batches wait to be hashed. */
  room(): Promise<void>;
  /** The digests of every byte taken; rejects when the hashing failed (the caller reads the bytes back). */
  finish(): Promise<ContentDigests>;
  cancel(): void;
}

interface JobState {
  inFlight: number;
  waitingForRoom: Array<() => void>;
  finished?: { resolve: (m: WorkerMessage) => void; reject: (err: Error) => void };
}

/** The one hashing thread of the process, started at the first large upload and restarted after a failure. */
class HashingThread {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, JobState>();
  private nextId = 1;
  /** Batch buffers the worker gave back, for the next batches (at most MAX_FREE_BATCHES kept). */
  private readonly free: ArrayBuffer[] = [];
  private readonly idleStop = new IdleStop(() => this.jobs.size === 0, () => this.stopIdle());

  /** One upload's (or file's) hashing: its chunks are copied into BATCH_BYTES batches whose memory moves to the thread and back. */
  open(withMd5: boolean): HashingJob {
    const { worker, id, state } = this.start();
    let failed: Error | null = null;
    let batch: Buffer | null = null;
    let filled = 0;
    const send = () => {
      const full = batch!;
      const length = filled;
      batch = null;
      filled = 0;
      if (failed || this.worker !== worker) return;
      state.inFlight++;
      try {
        worker.postMessage({ kind: 'batch', id, buffer: full.buffer, length, md5: withMd5 }, [full.buffer as ArrayBuffer]);
      } catch (err) {
        failed = err as Error;
      }
    };
    return {
      take: (chunks) => {
        for (const chunk of chunks) {
          for (let at = 0; at < chunk.length; ) {
            batch ??= this.batchBuffer();
            const copied = chunk.copy(batch, filled, at);
            at += copied;
            filled += copied;
            if (filled === BATCH_BYTES) send();
          }
        }
      },
      room: () => (state.inFlight < MAX_BATCHES_IN_FLIGHT || this.worker !== worker ? Promise.resolve() : new Promise<void>((resolve) => state.waitingForRoom.push(resolve))),
      finish: async () => {
        if (filled > 0) send();
        if (failed) throw failed;
        const m = await this.answer(worker, state, { kind: 'finish', id, md5: withMd5 });
        return { sha1: m.sha1!, md5: m.md5 ?? null };
      },
      cancel: () => {
        batch = null;
        this.cancel(worker, id, state);
      },
    };
  }

  /** A free BATCH_BYTES buffer: one the worker gave back, or a new one. */
  private batchBuffer(): Buffer {
    const reused = this.free.pop();
    return reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  isRunning(): boolean {
    return this.worker !== null;
  }

  private start(): { worker: Worker; id: number; state: JobState } {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const state: JobState = { inFlight: 0, waitingForRoom: [] };
    // Referenced while it has jobs (a restore run from the command line must get its digests), not while idle.
    if (this.jobs.size === 0) worker.ref();
    this.jobs.set(id, state);
    return { worker, id, state };
  }

  private answer(worker: Worker, state: JobState, message: { kind: string; id: number; [field: string]: unknown }): Promise<WorkerMessage> {
    if (this.worker !== worker) return Promise.reject(new Error('the hashing thread stopped'));
    return new Promise<WorkerMessage>((resolve, reject) => {
      state.finished = { resolve, reject };
      worker.postMessage(message);
    });
  }

  private cancel(worker: Worker, id: number, state: JobState): void {
    if (!this.forget(id)) return;
    if (this.worker === worker) worker.postMessage({ kind: 'cancel', id });
    for (const wake of state.waitingForRoom.splice(0)) wake();
    state.finished?.reject(new Error('cancelled'));
  }

  /** No upload to hash: the worker ends, and its batch buffers are let go with it. */
  private stopIdle(): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.free.length = 0;
    void worker.terminate();
  }

  /** The worker, started now if there is none. */
  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // The helper holds two hashes per job, nothing else.
    const worker: Worker = startWorkerThread<WorkerMessage>(WORKER_SOURCE, {
      name: 'hashing thread',
      youngGenerationMb: 1,
      onMessage: (m) => this.onMessage(m),
      onStopped: (err) => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.idleStop.cancel();
        // Every upload it was hashing is read back instead (OffloadedDigests.result).
        for (const state of this.jobs.values()) {
          for (const wake of state.waitingForRoom.splice(0)) wake();
          state.finished?.reject(err);
        }
        this.jobs.clear();
      },
    });
    this.worker = worker;
    return worker;
  }

  /** Drops job `id`; an idle thread no longer keeps the process alive. False when it was not there. */
  private forget(id: number): boolean {
    const state = this.jobs.get(id);
    if (state === undefined) return false;
    this.jobs.delete(id);
    if (this.jobs.size === 0 && this.worker) {
      this.worker.unref();
      this.idleStop.fellIdle();
    }
    return true;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.buffer && m.buffer.byteLength === BATCH_BYTES && this.free.length < MAX_FREE_BATCHES) this.free.push(m.buffer);
    const state = this.jobs.get(m.id);
    if (!state) return;
    if (m.kind === 'hashed') {
      state.inFlight--;
      if (state.inFlight < MAX_BATCHES_IN_FLIGHT) for (const wake of state.waitingForRoom.splice(0)) wake();
    } else {
      this.forget(m.id);
      state.finished?.resolve(m);
    }
  }
}

interface WorkerMessage {
  kind: 'hashed' | 'digests';
  id: number;
  /** 'hashed': the batch's memory, given back. */
  buffer?: ArrayBuffer;
  sha1?: string;
  /** 'digests': null when the job's MD5 was not asked for. */
  md5?: string | null;
}

let thread: HashingThread | null = null;
/** The process's hashing thread (started with its first job). */
export const hashingThread = (): HashingThread => (thread ??= new HashingThread());

/** Whether the hashing thread runs now (it stops once idle, workerThread.ts): for tests. */
export function hashingThreadRunning(): boolean {
  return thread?.isRunning() ?? false;
}

/**
 * Stops the hashing thread (a later large upload starts another). Uploads it was hashing read their
 * bytes back instead. For a process that is about to end, and for tests of that fallback.
 */
export function stopHashingThread(): Promise<void> {
  return thread?.stop() ?? Promise.resolve();
}
