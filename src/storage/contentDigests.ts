/**
 * The SHA-1 and MD5 of an upload, computed as its bytes pass, or after the answer.
 *
 * Hashing is the costliest step of a large upload: SHA-1 runs at about 1,800 MiB/s on one core
 * here and MD5 at 730, on the same two cores that receive the body and write it. So:
 * - A body announced as small (below OFFLOAD_MIN_BYTES), or not announced (chunked), is hashed in
 *   place, on the main thread, where a round trip off it would cost more than it saves.
 * - A large body that a client claims a checksum for (OC-Checksum, checked before the rename:
 *   `digestsNow` other than 'none') is hashed as it streams, off the main thread (nativeHashing.ts: on libuv's pool by
 *   native/contentHashes.c, else on the hashing thread, hashingThread.ts), in batches of about
 *   1 MiB hashed in the order sent: its SHA-1, and its MD5 when one is claimed ('sha1+md5'). Should
 *   that hashing fail, the digests are read back from the written file instead: never a wrong
 *   digest, never a failed upload for it.
 * - A large body nobody claims a checksum for is not hashed on the way in: its result is null, and
 *   versions/digestCompletion.ts reads the stored file back for both digests after the answer,
 *   once no large upload streams (storedFileDigests.ts). Hashing its SHA-1 on the way took a
 *   512 MiB PUT from 0.58 s to 0.80 s here (the bench's put-large row, 3 rounds, A/B), for a
 *   digest that nothing needed before the answer. Both digests come from the one read back,
 *   which the MD5 already needed.
 *
 * Usage:
 *   const digests = startContentDigests(expectedLength, 'none');
 *   await digests.update(chunks);            // for each part of the body, in order (may wait)
 *   const found = await digests.result(readBack);   // readBack: the written bytes again; null: left for later
 *   digests.cancel();                         // when the upload fails
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashingJob } from './hashingThread';
import { openHashingJob } from './nativeHashing';

/** The SHA-1 and MD5 of a file's content, lower-case hex (what ownCloud clients and rclone compare). */
export interface ContentDigests {
  sha1: string;
  /** Null while not computed yet: a large upload's when only its SHA-1 was claimed, until it is read back. */
  md5: string | null;
}

/**
 * What of a large upload is hashed as it streams: nothing (no checksum claimed), its SHA-1 (a SHA-1
 * claimed), or both (an MD5 claimed: the hashing always includes the SHA-1). Small bodies always get both.
 */
export type DigestsNow = 'none' | 'sha1' | 'sha1+md5';

/** Bodies announced at least this long are hashed off the main thread. */
export const OFFLOAD_MIN_BYTES = 8 * 1024 * 1024;

export interface ContentDigester {
  /** Hashes `chunks` after those before; resolves when more may be given. */
  update(chunks: readonly Buffer[]): Promise<void> | void;
  /**
   * The digests of every byte given, or null for a large body left to be read back after the
   * answer; `readBack` yields the same bytes again, for when the hashing off the main thread failed.
   */
  result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests | null>;
  /** Forgets the upload (it failed); no result follows. */
  cancel(): void;
}

/** Large uploads streaming now, hashed or not: a stored file is read back only while there are none (storedFileDigests.ts). */
let largeUploads = 0;

/** Whether a large upload is streaming now (its digester made, its result or cancel not yet asked for). */
export function largeUploadStreaming(): boolean {
  return largeUploads > 0;
}

export function startContentDigests(expectedLength: number | undefined, digestsNow: DigestsNow): ContentDigester {
  if (expectedLength === undefined || expectedLength < OFFLOAD_MIN_BYTES) return new InPlaceDigests();
  return new LargeUpload(digestsNow === 'none' ? null : new OffloadedDigests(digestsNow === 'sha1+md5'));
}

/** A large upload's digester, counted in largeUploads until its result or its cancel; with no hashing: a null result. */
class LargeUpload implements ContentDigester {
  private counted = true;

  constructor(private readonly hashing: ContentDigester | null) {
    largeUploads++;
  }

  update(chunks: readonly Buffer[]): Promise<void> | void {
    return this.hashing?.update(chunks);
  }

  async result(readBack: () => AsyncIterable<Buffer>): Promise<ContentDigests | null> {
    this.uncount();
    return this.hashing === null ? null : this.hashing.result(readBack);
  }

  cancel(): void {
    this.uncount();
    this.hashing?.cancel();
  }

  private uncount(): void {
    if (this.counted) largeUploads--;
    this.counted = false;
  }
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
