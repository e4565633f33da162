/**
 * The SHA-1 and MD5 of a stored file, read back: for a large upload nobody claimed a checksum for,
 * whose digests were left for after the answer (contentDigests.ts), and for a version whose
 * digests are not known yet (versions/digestCompletion.ts). The file is read a batch at a time on
 * the main thread and hashed off it by the same job a large upload's bytes go to (nativeHashing.ts:
 * libuv's pool, else the hashing thread), so there is one way to hash and one to read back.
 *
 * Uploads come first: their answers may wait for their hashes, this one waits for nobody. Before
 * each batch the read waits while a large upload streams (largeUploadStreaming), so it takes
 * neither a core nor the disk from one.
 *
 *   const found = await digestsOfStoredFile(hostPath, signal);   // { sha1, md5, ino, size, mtimeMs }, or null
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { largeUploadStreaming } from './contentDigests';
import { BATCH_BYTES, MAX_BATCHES_IN_FLIGHT, type HashingJob } from './hashingThread';
import { openHashingJob } from './nativeHashing';

/** A stored file's digests as read back, with the stat it was read under (the same before and after). */
export interface FileDigests {
  sha1: string;
  md5: string;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** How long a read back waits before it looks again whether large uploads have ended. */
const UPLOAD_POLL_MS = 5;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The digests of the file at `host` (an absolute host path, not followed if a symbolic link), read
 * back while no large upload streams, with the stat it was read under; null when it is missing, not
 * a regular file, unreadable, changed while it was read, when the hashing failed, or when `signal`
 * aborted first.
 */
export async function digestsOfStoredFile(host: string, signal?: AbortSignal): Promise<FileDigests | null> {
  if (signal?.aborted) return null;
  let handle: FileHandle | null = null;
  let job: HashingJob | null = null;
  let finished = false;
  try {
    handle = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW);
    const before = await handle.stat();
    if (!before.isFile()) return null;
    job = openHashingJob(true);
    // A batch stays with the job until hashed: one more buffer than may be in flight is never one still in use.
    const buffers = Array.from({ length: MAX_BATCHES_IN_FLIGHT + 1 }, () => Buffer.allocUnsafeSlow(BATCH_BYTES));
    let position = 0;
    for (let turn = 0; ; turn++) {
      while (largeUploadStreaming() && !signal?.aborted) await pause(UPLOAD_POLL_MS);
      if (signal?.aborted) return null;
      const buffer = buffers[turn % buffers.length];
      const filled = await readBatch(handle, buffer, position);
      if (filled === 0) break;
      position += filled;
      job.take([buffer.subarray(0, filled)]);
      await job.room();
      if (filled < buffer.length) break;
    }
    const after = await handle.stat();
    const unchanged = before.ino === after.ino && before.size === after.size && before.mtimeMs === after.mtimeMs && before.ctimeMs === after.ctimeMs;
    if (!unchanged || position !== after.size || signal?.aborted) return null;
    finished = true;
    const { sha1, md5 } = await job.finish();
    return { sha1, md5: md5!, ino: after.ino, size: after.size, mtimeMs: after.mtimeMs };
  } catch {
    return null; // gone, replaced by a directory, unreadable, the hashing failed: no digests (the caller gives up on this version)
  } finally {
    if (!finished) job?.cancel();
    await handle?.close().catch(() => undefined);
  }
}

/** Reads from `position` until `buffer` is full or the file ends; the bytes read. */
async function readBatch(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
