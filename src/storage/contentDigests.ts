/**
 * The SHA-1 and MD5 of an upload, computed as its bytes pass (so a checksum never needs a second
 * read of the file). Hashing is the costliest step of a large upload: MD5 runs at about 430 MiB/s
 * on one core here, SHA-1 at 1,100, so a 512 MiB PUT spent 1.6 s of its main thread hashing, time
 * in which no other request was answered. An upload announced as large (at least
 * OFFLOAD_MIN_BYTES) is therefore hashed off the main thread (nativeHashing.ts: on libuv's pool
 * by native/contentHashes.c, else on the hashing thread, hashingThread.ts): its bytes go there in
 * batches of about 1 MiB, hashed in the order sent. Smaller or unannounced (chunked) bodies are
 * hashed in place, where a round trip off the main thread would cost more than it saves. Should
 * the hashing off it fail, the digests are read back from the written file instead: never a
 * wrong digest, never a failed upload for it.
 *
 * A large upload's MD5 is computed on the way in only when asked (`md5Now`: the client claimed
 * one in OC-Checksum, which is checked before the rename). Otherwise its digests come back with
 * `md5: null` and md5OfFile() (nativeHashing.ts) reads the stored file back for it after the answer
 * (versions/md5Completion.ts): on the two cores here MD5 was 0.4 s of a 512 MiB PUT's 1.1 s,
 * and SHA-1, which the answer's OC-Checksum and every client claim so far need, is the fast one.
 *
 * Usage:
 *   const digests = startContentDigests(expectedLength, { md5Now: false });
 *   await digests.update(chunks);            // for each part of the body, in order (may wait)
 *   const { sha1, md5 } = await digests.result(readBack);   // readBack: the written bytes again
 *   digests.cancel();                         // when the upload fails
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashingJob } from './hashingThread';
import { openHashingJob } from './nativeHashing';

/** The SHA-1 and MD5 of a file's content, lower-case hex (what ownCloud clients and rclone compare). */
export interface ContentDigests {
  sha1: string;
  /** Null while not computed yet: a large upload's, until md5OfFile() has read it back. */
  md5: string | null;
}

export interface DigestOptions {
  /** Compute the MD5 of a large upload as it streams (a client claims one); small bodies always get theirs. */
  md5Now: boolean;
}

/** Bodies announced at least this long are hashed off the main thread. */
export const OFFLOAD_MIN_BYTES = 8 * 1024 * 1024;

export interface ContentDigester {
  /** Hashes `chunks` after those before; resolves when more may be given. */
  update(chunks: readonly Buffer[]): Promise<void> | void;
  /** The digests of every byte given; `readBack` yields the same bytes again, for when the hashing off the main thread failed. */
  result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests>;
  /** Forgets the upload (it failed); no result follows. */
  cancel(): void;
}

export function startContentDigests(expectedLength: number | undefined, options: DigestOptions): ContentDigester {
  return expectedLength !== undefined && expectedLength >= OFFLOAD_MIN_BYTES ? new OffloadedDigests(options.md5Now) : new InPlaceDigests();
}

class InPlaceDigests implements ContentDigester {
  private readonly sha1: Hash = createHash('sha1');
  private readonly md5: Hash | null;

  constructor(withMd5 = true) {
    this.md5 = withMd5 ? createHash('md5') : null;
  }

  update(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      this.sha1.update(chunk);
      this.md5?.update(chunk);
    }
  }

  async result(): Promise<ContentDigests> {
    return { sha1: this.sha1.digest('hex'), md5: this.md5?.digest('hex') ?? null };
  }

  cancel(): void {}
}

/** Digests of `bytes` (read back from the file), hashed in place. */
async function digestsOf(bytes: AsyncIterable<Buffer>, withMd5: boolean): Promise<ContentDigests> {
  const digester = new InPlaceDigests(withMd5);
  for await (const chunk of bytes) digester.update([chunk]);
  return digester.result();
}

class OffloadedDigests implements ContentDigester {
  private readonly job: HashingJob;

  constructor(private readonly withMd5: boolean) {
    this.job = openHashingJob(withMd5);
  }

  async update(chunks: readonly Buffer[]): Promise<void> {
    this.job.take(chunks);
    await this.job.room();
  }

  async result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests> {
    try {
      return await this.job.finish();
    } catch {
      return digestsOf(readBack(), this.withMd5);
    }
  }

  cancel(): void {
    this.job.cancel();
  }
}
