/**
 * Hashing large uploads, and stored files read back (storedFileDigests.ts), on libuv's thread pool with the
 * OpenSSL Node.js carries (native/contentHashes.c), instead of on the hashing thread
 * (hashingThread.ts): that thread is a second V8 isolate, and its 1 MiB batches copies of the
 * body. Four PUTs of 512 MiB each peaked at 90-94 MiB (VmHWM) with it, 84-87 here, and 73-78 when
 * the main thread hashed in place (which took twice as long). Here a pool thread runs C only, the
 * body's own chunks are hashed where they lie (no copy into batches, no transfer), and nothing is
 * left running once the upload ends. The thread stays for an install without a compiler, or a
 * Node.js that exports no OpenSSL digests.
 *
 * The same contract as the thread's (hashingThread.ts): one upload's batches are hashed in the
 * order sent, at most MAX_BATCHES_IN_FLIGHT waiting (then room() waits); a job that fails throws
 * from finish(), and the caller reads the bytes back (contentDigests.ts).
 *
 *   const job = openHashingJob(withMd5);         // job.take(chunks); await job.room(); await job.finish()
 */
import { loadNativeHelper, nativeHelperPath } from '../nativeHelpers';
import type { ContentDigests } from './contentDigests';
import { BATCH_BYTES, MAX_BATCHES_IN_FLIGHT, hashingThread, type HashingJob } from './hashingThread';

/** native/contentHashes.c's exports. */
interface ContentHashesBinding {
  available: boolean;
  start(sha1: boolean, md5: boolean): object;
  update(hashes: object, pieces: readonly Uint8Array[]): Promise<void>;
  finish(hashes: object): { sha1: string | null; md5: string | null };
}

/** Where `npm install` builds native/contentHashes.c (nativeHelpers.ts). */
export const CONTENT_HASHES_BINARY = nativeHelperPath('content_hashes');
const loaded = loadNativeHelper<ContentHashesBinding>(CONTENT_HASHES_BINARY);
const binding = loaded?.available === true ? loaded : null;
/** Whether uploads and read backs are hashed by the helper (tests turn it off to cover the hashing thread). */
let enabled = binding !== null;

/** True when the helper is built, finds OpenSSL in this Node.js, and is in use. */
export function nativeHashingAvailable(): boolean {
  return enabled;
}

/** For tests: whether uploads and read backs use the helper (when available), so the hashing thread stays covered too. */
export function useNativeHashingForTests(use: boolean): void {
  enabled = use && binding !== null;
}

/** A job hashing one upload, or one stored file read back: by the helper when available, else on the hashing thread. */
export function openHashingJob(withMd5: boolean): HashingJob {
  return enabled ? openNativeJob(binding!, withMd5) : hashingThread().open(withMd5);
}

/**
 * An upload hashed by the helper: its chunks themselves (no copy) go to the pool in batches of at
 * least BATCH_BYTES, one batch at a time and in order; at most MAX_BATCHES_IN_FLIGHT wait.
 */
function openNativeJob(native: ContentHashesBinding, withMd5: boolean): HashingJob {
  const hashes = native.start(true, withMd5);
  let ended = false;
  let failed: unknown = null;
  let inFlight = 0;
  let pieces: Buffer[] = [];
  let piecesBytes = 0;
  let hashed: Promise<void> = Promise.resolve();
  const waitingForRoom: Array<() => void> = [];
  const end = () => {
    if (ended) return;
    ended = true;
    pieces = [];
    for (const wake of waitingForRoom.splice(0)) wake();
  };
  const send = () => {
    const batch = pieces;
    pieces = [];
    piecesBytes = 0;
    inFlight++;
    // One update at a time, in the order sent (the helper takes one at a time per upload).
    hashed = hashed
      .then(() => (ended || failed !== null ? undefined : native.update(hashes, batch)))
      .catch((err: unknown) => {
        failed ??= err;
      })
      .finally(() => {
        inFlight--;
        if (inFlight < MAX_BATCHES_IN_FLIGHT) for (const wake of waitingForRoom.splice(0)) wake();
      });
  };
  return {
    take(chunks) {
      if (ended) return;
      for (const chunk of chunks) {
        if (chunk.length === 0) continue;
        pieces.push(chunk);
        piecesBytes += chunk.length;
      }
      if (piecesBytes >= BATCH_BYTES) send();
    },
    room: () => (inFlight < MAX_BATCHES_IN_FLIGHT || ended ? Promise.resolve() : new Promise<void>((resolve) => waitingForRoom.push(resolve))),
    async finish(): Promise<ContentDigests> {
      if (!ended && piecesBytes > 0) send();
      await hashed;
      end();
      if (failed !== null) throw failed;
      const { sha1, md5 } = native.finish(hashes);
      return { sha1: sha1!, md5 };
    },
    cancel: end,
  };
}
