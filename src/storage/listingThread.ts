/**
 * Reading a collection's members on a worker thread, a batch at a time: the directory read
 * (getdents, a string per name) and each member's lstat happen there, so the main thread renders
 * one batch while the other core reads the next, and a slow filesystem never stalls the main
 * thread. perf and --cpu-prof of PROPFIND Depth 1 over 1,000 files under 16 connections: the
 * lstats were a third of the main thread's time and the directory reads a tenth, while the second
 * core was mostly idle.
 *
 * One message per batch: the names (as text) and one Float64Array come back, the array's memory
 * moved, not copied, holding MEMBER_FIELDS numbers per name: the kind (a plain file, a directory,
 * or anything else: symlinks, special files and errors, left to the caller's careful path), then
 * size, mtimeMs, ctimeMs, birthtimeMs, ino and dev.
 *
 * Where `npm install` built native/memberListing.c, listings are read on libuv's pool instead, with
 * no second isolate (nativeListing.ts says why): this thread serves an install without a compiler.
 *
 * Should the thread fail, whatever waits on it is rejected (a listing it was reading cannot be
 * resumed: its directory handle died with it) and the next call starts a new thread. With nothing
 * to do and no directory open for 10 s it stops (workerThread.ts); a listing that begins while it
 * is down or starting is read on the main thread (listingThreadReady, listCollection.ts).
 */
import type { Worker } from 'node:worker_threads';
import { IdleStop, startWorkerThread } from './workerThread';

/** Numbers per member in an answer. */
export const MEMBER_FIELDS = 7;
/** The first number of a member: 0 for a symlink, a special file, one gone or an error (the caller resolves it itself). */
export const MemberKind = { Careful: 0, File: 1, Directory: 2 } as const;

/** The thread's source. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync, opendirSync } = require('node:fs');
const FIELDS = ${MEMBER_FIELDS};
const listings = new Map();
function statsOf(dir, names) {
  const out = new Float64Array(names.length * FIELDS);
  const prefix = dir === '/' ? '/' : dir + '/';
  for (let i = 0; i < names.length; i++) {
    let s;
    try {
      s = lstatSync(prefix + names[i], { throwIfNoEntry: false });
    } catch {
      s = undefined;
    }
    const kind = s === undefined ? 0 : s.isFile() ? 1 : s.isDirectory() ? 2 : 0;
    const at = i * FIELDS;
    out[at] = kind;
    if (kind === 0) continue;
    out[at + 1] = s.size;
    out[at + 2] = s.mtimeMs;
    out[at + 3] = s.ctimeMs;
    out[at + 4] = s.birthtimeMs;
    out[at + 5] = s.ino;
    out[at + 6] = s.dev;
  }
  return out;
}
parentPort.on('message', (m) => {
  try {
    if (m.kind === 'stat') {
      const stats = statsOf(m.dir, m.names);
      parentPort.postMessage({ id: m.id, stats }, [stats.buffer]);
    } else if (m.kind === 'open') {
      listings.set(m.listing, { dir: m.dir, handle: opendirSync(m.dir, { bufferSize: m.bufferSize }) });
      parentPort.postMessage({ id: m.id });
    } else if (m.kind === 'read') {
      const listing = listings.get(m.listing);
      const names = [];
      for (let entry; names.length < m.max && (entry = listing.handle.readSync()) !== null; ) names.push(entry.name);
      const stats = statsOf(listing.dir, names);
      parentPort.postMessage({ id: m.id, names, stats }, [stats.buffer]);
    } else if (m.kind === 'close') {
      const listing = listings.get(m.listing);
      listings.delete(m.listing);
      listing?.handle.closeSync();
      parentPort.postMessage({ id: m.id });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { code: err.code, message: err.message } });
  }
});
parentPort.postMessage({ id: 0 });
`;

interface Reply {
  id: number;
  names?: string[];
  stats?: Float64Array;
  error?: { code?: string; message: string };
}

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

/** A directory being read off the main thread: on this thread, or on libuv's pool (nativeListing.ts). */
export interface OffThreadListing {
  /** The next at most `max` names (before any filtering) and their stats; null at the end. Rejects when the read or the thread fails. */
  read(max: number): Promise<{ names: string[]; stats: Float64Array } | null>;
  /** Closes the directory (also when the reading thread has died: then there is nothing to close). */
  close(): Promise<void>;
}

class ListingThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Directories open on the current worker: it holds their handles, so it is not idle while any is. */
  private openListings = 0;
  /** The current worker has started up (its first message, id 0, came): calls to it are answered without waiting. */
  private ready = false;
  private readonly idleStop = new IdleStop(
    () => this.isIdle(),
    () => this.stopIdle(),
  );

  /** Sends `message` with a fresh id; resolves with the worker's answer, rejects when it reports an error (an Error with its errno code) or dies. */
  call(message: Record<string, unknown>): Promise<Reply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      // Referenced while it owes an answer (a command that lists and then ends must get it), not while idle.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...message, id });
      } catch (err) {
        this.settled(id, worker);
        reject(err as Error);
      }
    }).then((reply) => {
      if (!reply.error) return reply;
      throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    });
  }

  /** The worker now, for a listing to tell whether the one that holds its directory still runs. */
  current(): Worker | null {
    return this.worker;
  }

  /**
   * True when a worker has started up and answers at once; otherwise starts one (unless it is
   * starting already) and returns false, so the caller does this time's work itself: starting a
   * worker takes 35-75 ms here, longer than the thread saves a listing of a few thousand members.
   */
  readyOrStarting(): boolean {
    if (this.worker && this.ready) return true;
    this.ensureWorker();
    return false;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  /** A directory was opened on `worker`. */
  listingOpened(worker: Worker | null): void {
    if (worker && worker === this.worker) this.openListings++;
  }

  /** A directory opened on `worker` is being closed (or `worker` is gone, and it with it). */
  listingClosed(worker: Worker | null): void {
    if (!worker || worker !== this.worker || this.openListings === 0) return;
    this.openListings--;
    if (this.isIdle()) this.idleStop.fellIdle();
  }

  /** Nothing owed by the worker and no directory open on it. */
  private isIdle(): boolean {
    return this.pending.size === 0 && this.openListings === 0;
  }

  /** Idle (nothing owed, no directory open): the next call starts a new worker, and this one ends. */
  private stopIdle(): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.ready = false;
    this.openListings = 0;
    void worker.terminate();
  }

  /** The worker, started now if there is none. */
  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker: Worker = startWorkerThread<Reply>(WORKER_SOURCE, {
      name: 'listing thread',
      youngGenerationMb: 2,
      onMessage: (reply) => {
        if (reply.id !== 0) this.settled(reply.id, worker)?.resolve(reply);
        else if (worker === this.worker) {
          this.ready = true;
          // Started for a later call (readyOrStarting): idle until one comes.
          if (this.isIdle()) this.idleStop.fellIdle();
        }
      },
      onStopped: (err) => {
        if (this.worker !== worker) return;
        this.worker = null;
        this.ready = false;
        this.openListings = 0;
        this.idleStop.cancel();
        for (const waiting of this.pending.values()) waiting.reject(err);
        this.pending.clear();
      },
    });
    this.worker = worker;
    return worker;
  }

  private settled(id: number, worker: Worker): Pending | undefined {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) {
      worker.unref();
      if (worker === this.worker && this.isIdle()) this.idleStop.fellIdle();
    }
    return waiting;
  }
}

let thread: ListingThread | null = null;
const listingThread = (): ListingThread => (thread ??= new ListingThread());
let nextListing = 1;

/** The stats of `names` in the host directory `dir`, MEMBER_FIELDS numbers per name, in order; rejects when the thread failed. */
export async function statMembersOnThread(dir: string, names: readonly string[]): Promise<Float64Array> {
  return (await listingThread().call({ kind: 'stat', dir, names })).stats!;
}

/**
 * Opens the host directory `dir` on the thread, to be read `bufferSize` entries per directory read.
 * Rejects with the errno-coded error of opendir (ENOENT, ENOTDIR, EACCES...), or a plain Error
 * when the thread itself failed (the caller may then read the directory itself).
 */
export async function openListingOnThread(dir: string, bufferSize: number): Promise<OffThreadListing> {
  const owner = listingThread();
  const listing = nextListing++;
  await owner.call({ kind: 'open', listing, dir, bufferSize });
  const worker = owner.current();
  owner.listingOpened(worker);
  let ended = false;
  const handle: OffThreadListing = {
    async read(max) {
      if (ended) return null;
      // Its directory handle died with the thread that held it: a listing cannot resume.
      if (owner.current() !== worker) throw new Error('the listing thread stopped while reading this directory');
      const reply = await owner.call({ kind: 'read', listing, max });
      return reply.names!.length === 0 ? null : { names: reply.names!, stats: reply.stats! };
    },
    async close() {
      if (ended) return;
      ended = true;
      abandoned.unregister(handle);
      owner.listingClosed(worker);
      if (owner.current() === worker) await owner.call({ kind: 'close', listing }).catch(() => undefined);
    },
  };
  abandoned.register(handle, { owner, worker, listing }, handle);
  return handle;
}

/** A listing dropped without close() still has its directory closed on the thread, once collected. */
const abandoned = new FinalizationRegistry<{ owner: ListingThread; worker: Worker | null; listing: number }>(({ owner, worker, listing }) => {
  owner.listingClosed(worker);
  if (owner.current() === worker) owner.call({ kind: 'close', listing }).catch(() => undefined);
});

/**
 * True when the listing thread is up and answers at once. Otherwise false, and it is being
 * started: the caller reads this directory itself this time (the thread stops once idle,
 * workerThread.ts, and the first listing after that would otherwise wait for it to start).
 */
export function listingThreadReady(): boolean {
  return listingThread().readyOrStarting();
}

/** Whether the listing thread runs now (it stops once idle, workerThread.ts): for tests. */
export function listingThreadRunning(): boolean {
  return thread?.current() != null;
}

/** Stops the thread (the next call starts another): for a process about to end, and for tests of what follows a failure. */
export function stopListingThread(): Promise<void> {
  return thread?.stop() ?? Promise.resolve();
}

