/**
 * The lstat of a listing's members, made on a worker thread a batch at a time, so the main thread
 * renders one batch while the other core looks up the next (and a slow filesystem never stalls
 * the main thread). perf of PROPFIND Depth 1 over 1,000 files under 16 connections: the lstats
 * were a third of the main thread's time, kernel path walks and the Stats objects built for them,
 * while the second core was mostly idle.
 *
 * One message per batch: the directory and the member names go out, and one Float64Array comes
 * back (its memory moved, not copied) holding, per name, MEMBER_FIELDS numbers: the kind (a plain
 * file, a directory, or anything else: symlinks, special files and errors, left to the caller's
 * careful path), then size, mtimeMs, ctimeMs, birthtimeMs, ino and dev.
 *
 * Should the thread fail, pending batches are rejected and the next batch starts a new one; the
 * caller then stats those members itself.
 */
import { Worker } from 'node:worker_threads';

/** Numbers per member in the answer. */
export const MEMBER_FIELDS = 7;
/** The first number of a member: 0 for a symlink, a special file, one gone or an error (the caller resolves it itself). */
export const MemberKind = { Careful: 0, File: 1, Directory: 2 } as const;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
const FIELDS = ${MEMBER_FIELDS};
parentPort.on('message', ({ id, dir, names }) => {
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
  parentPort.postMessage({ id, stats: out }, [out.buffer]);
});
`;

interface Pending {
  resolve(stats: Float64Array): void;
  reject(err: Error): void;
}

class MemberStatThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  stat(dir: string, names: readonly string[]): Promise<Float64Array> {
    const worker = this.running();
    const id = this.nextId++;
    return new Promise<Float64Array>((resolve, reject) => {
      // Referenced while it owes an answer (a command that lists and then ends must get it), not while idle.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, dir, names });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    // A small heap, and none of the process's own flags (a --require of the main thread is no business of this one): the worker holds one batch's answer at a time.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
    worker.on('message', (m: { id: number; stats: Float64Array }) => {
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      waiting?.resolve(m.stats);
    });
    const stopped = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the member stat thread exited (${code})`)));
    // After the listeners (adding one refs the worker again): an idle thread does not keep the process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

let thread: MemberStatThread | null = null;

/** The stats of `names` in the host directory `dir`, MEMBER_FIELDS numbers per name, in order; rejects when the thread failed. */
export function statMembersOnThread(dir: string, names: readonly string[]): Promise<Float64Array> {
  return (thread ??= new MemberStatThread()).stat(dir, names);
}

/** Stops the thread (the next batch starts another): for a process about to end, and for tests of the fallback. */
export function stopMemberStatThread(): Promise<void> {
  return thread?.stop() ?? Promise.resolve();
}
