/**
 * The SHA-1 and MD5 of an upload, computed as its bytes pass (so a checksum never needs a second
 * read of the file). Hashing is the costliest step of a large upload: MD5 runs at about 430 MiB/s
 * on one core here, SHA-1 at 1,100, so a 512 MiB PUT spent 1.6 s of its main thread hashing, time
 * in which no other request was answered. An upload announced as large (at least
 * OFFLOAD_MIN_BYTES) is therefore hashed on a worker thread: its bytes are copied into 1 MiB
 * batches whose memory moves to the worker and back (no second copy, and the same few buffers
 * serve every upload: memory that waits for a collection would double a large upload's resident
 * size), at most MAX_BATCHES_IN_FLIGHT ahead of it (beyond that the upload waits). Smaller or unannounced (chunked)
 * bodies are hashed in place, where a worker's round trip would cost more than it saves. Should the
 * worker fail, the digests are read back from the written file instead: never a wrong digest,
 * never a failed upload for it.
 *
 * Usage:
 *   const digests = startContentDigests(expectedLength);
 *   await digests.update(chunks);            // for each part of the body, in order (may wait)
 *   const { sha1, md5 } = await digests.result(readBack);   // readBack: the written bytes again
 *   digests.cancel();                         // when the upload fails
 */
import { createHash, type Hash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { IdleStop, startWorkerThread } from './workerThread';

/** The SHA-1 and MD5 of a file's content, lower-case hex (what ownCloud clients and rclone compare). */
export interface ContentDigests {
  sha1: string;
  md5: string;
}

/** Bodies announced at least this long are hashed on the worker thread. */
export const OFFLOAD_MIN_BYTES = 8 * 1024 * 1024;
const BATCH_BYTES = 1024 * 1024;
const MAX_BATCHES_IN_FLIGHT = 4;
const MAX_FREE_BATCHES = MAX_BATCHES_IN_FLIGHT + 1;

export interface ContentDigester {
  /** Hashes `chunks` after those before; resolves when more may be given. */
  update(chunks: readonly Buffer[]): Promise<void> | void;
  /** The digests of every byte given; `readBack` yields the same bytes again, for when the worker failed. */
  result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests>;
  /** Forgets the upload (it failed); no result follows. */
  cancel(): void;
}

export function startContentDigests(expectedLength: number | undefined): ContentDigester {
  return expectedLength !== undefined && expectedLength >= OFFLOAD_MIN_BYTES ? new OffloadedDigests() : new InPlaceDigests();
}

class InPlaceDigests implements ContentDigester {
  private readonly sha1: Hash = createHash('sha1');
  private readonly md5: Hash = createHash('md5');

  update(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      this.sha1.update(chunk);
      this.md5.update(chunk);
    }
  }

  async result(): Promise<ContentDigests> {
    return { sha1: this.sha1.digest('hex'), md5: this.md5.digest('hex') };
  }

  cancel(): void {}
}

/** Digests of `bytes` (read back from the file), hashed in place. */
async function digestsOf(bytes: AsyncIterable<Buffer>): Promise<ContentDigests> {
  const digester = new InPlaceDigests();
  for await (const chunk of bytes) digester.update([chunk]);
  return digester.result();
}

class OffloadedDigests implements ContentDigester {
  private readonly job = hashingThread().open();
  private batch: Buffer | null = null;
  private filled = 0;

  async update(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) {
        this.batch ??= this.job.batchBuffer();
        const copied = chunk.copy(this.batch, this.filled, at);
        at += copied;
        this.filled += copied;
        if (this.filled === BATCH_BYTES) this.send();
      }
    }
    await this.job.room();
  }

  async result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests> {
    if (this.filled > 0) this.send();
    try {
      return await this.job.finish();
    } catch {
      return digestsOf(readBack());
    }
  }

  cancel(): void {
    this.batch = null;
    this.job.cancel();
  }

  private send(): void {
    this.job.send(this.batch!, this.filled);
    this.batch = null;
    this.filled = 0;
  }
}

/** The worker's side: one pair of hashes per upload id, updated in the order batches arrive. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
const hashesOf = (id) => {
  let job = jobs.get(id);
  if (!job) jobs.set(id, (job = { sha1: createHash('sha1'), md5: createHash('md5') }));
  return job;
};
parentPort.on('message', (m) => {
  if (m.kind === 'batch') {
    const job = hashesOf(m.id);
    const bytes = new Uint8Array(m.buffer, 0, m.length);
    job.sha1.update(bytes);
    job.md5.update(bytes);
    parentPort.postMessage({ kind: 'hashed', id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.kind === 'finish') {
    const job = hashesOf(m.id);
    jobs.delete(m.id);
    parentPort.postMessage({ kind: 'digests', id: m.id, sha1: job.sha1.digest('hex'), md5: job.md5.digest('hex') });
  } else if (m.kind === 'cancel') {
    jobs.delete(m.id);
  }
});
`;

interface WorkerJob {
  /** A free BATCH_BYTES buffer (one the worker gave back, or a new one). */
  batchBuffer(): Buffer;
  send(batch: Buffer, length: number): void;
  /** Resolves once fewer than MAX_BATCHES_IN_FLIGHT batches wait for the worker. */
  room(): Promise<void>;
  finish(): Promise<ContentDigests>;
  cancel(): void;
}

interface JobState {
  inFlight: number;
  waitingForRoom: Array<() => void>;
  finished?: { resolve: (d: ContentDigests) => void; reject: (err: Error) => void };
}

/** The one hashing thread of the process, started at the first large upload and restarted after a failure. */
class HashingThread {
  private worker: Worker | null = null;
  private readonly jobs = new Map<number, JobState>();
  private nextId = 1;
  /** Batch buffers the worker gave back, for the next batches (at most MAX_FREE_BATCHES kept). */
  private readonly free: ArrayBuffer[] = [];
  private readonly idleStop = new IdleStop(() => this.jobs.size === 0, () => this.stopIdle());

  open(): WorkerJob {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const state: JobState = { inFlight: 0, waitingForRoom: [] };
    // Referenced while it has uploads to hash (a restore run from the command line must get its digests), not while idle.
    if (this.jobs.size === 0) worker.ref();
    this.jobs.set(id, state);
    let failed: Error | null = null;
    return {
      batchBuffer: () => {
        const reused = this.free.pop();
        return reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(BATCH_BYTES);
      },
      send: (batch, length) => {
        if (failed || this.worker !== worker) return;
        state.inFlight++;
        try {
          worker.postMessage({ kind: 'batch', id, buffer: batch.buffer, length }, [batch.buffer as ArrayBuffer]);
        } catch (err) {
          failed = err as Error;
        }
      },
      room: () => (state.inFlight < MAX_BATCHES_IN_FLIGHT || this.worker !== worker ? Promise.resolve() : new Promise<void>((resolve) => state.waitingForRoom.push(resolve))),
      finish: () => {
        if (failed) return Promise.reject(failed);
        if (this.worker !== worker) return Promise.reject(new Error('the hashing thread stopped'));
        return new Promise<ContentDigests>((resolve, reject) => {
          state.finished = { resolve, reject };
          worker.postMessage({ kind: 'finish', id });
        });
      },
      cancel: () => {
        if (!this.forget(id)) return;
        if (this.worker === worker) worker.postMessage({ kind: 'cancel', id });
        for (const wake of state.waitingForRoom.splice(0)) wake();
      },
    };
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  isRunning(): boolean {
    return this.worker !== null;
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
    // The helper holds two hashes per upload and nothing else.
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

  /** Drops upload `id`; an idle thread no longer keeps the process alive. False when it was not there. */
  private forget(id: number): boolean {
    if (!this.jobs.delete(id)) return false;
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
    } else if (m.kind === 'digests') {
      this.forget(m.id);
      state.finished?.resolve({ sha1: m.sha1!, md5: m.md5! });
    }
  }
}

interface WorkerMessage {
  kind: 'hashed' | 'digests';
  id: number;
  /** 'hashed': the batch's memory, given back. */
  buffer?: ArrayBuffer;
  sha1?: string;
  md5?: string;
}

let thread: HashingThread | null = null;
const hashingThread = (): HashingThread => (thread ??= new HashingThread());

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
