/**
 * A small upload of announced length (at most SMALL_BODY_MAX bytes), when the durable-write helper
 * is built (durableWriteHelper.ts): the body is read into memory, hashed and checked there, and
 * then created, written, fsynced and renamed over its target in one trip through the thread pool,
 * where the streaming path (atomicWrite.ts) takes three. The guarantees are the streaming path's:
 * the old content stays whole until the rename, nothing is left behind on a failure, and a content
 * that is not what the client computed never reaches the disk (it is checked before the create).
 * The directory's fsync, grouped with other writes', is the caller's.
 */
import type { Stats } from 'node:fs';
import { Writable } from 'node:stream';
import type { DavPath } from '../paths/davPath';
import { childHostPath } from './containment';
import { errnoOf } from './storageErrors';
import { bodyBytesPassed } from './spentBodyBuffers';
import { startContentDigests, type ContentDigests } from './contentDigests';
import { closeDescriptor, statDescriptor } from './fileDescriptorCalls';
import { bodyEndedEarly, bodyTooLong, pumpBody } from './bodyPump';
import type { DurableWriteHelper } from './durableWriteHelper';
import type { AtomicWriteRequest } from './atomicWrite';

/** Bodies announced at most this long are read into memory first (node:http reads 64 KiB at a time). */
export const SMALL_BODY_MAX = 64 * 1024;

/**
 * Writes `request` (whose expectedLength is at most SMALL_BODY_MAX) through `helper`, its
 * temporary named by `newTempName` (atomicWrite.ts's tempName, passed in so this module needs no
 * value from the one that calls it); resolves with the content's digests and the new file's stats. Throws what the streaming path throws,
 * unmapped: IncompleteBodyError, whatever `verify` throws, and errno errors.
 */
export async function writeSmallBody(
  helper: DurableWriteHelper, request: AtomicWriteRequest, newTempName: () => string,
): Promise<{ digests: ContentDigests | null; stats: Stats }> {
  const { path, dirHost, targetHost, expectedLength, mtimeMs, mode } = request;
  const chunks = await readBody(request.body, expectedLength!, path);
  const digester = startContentDigests(expectedLength, 'sha1+md5');
  digester.update(chunks);
  const digests = await digester.result(async function* () {
    yield* chunks;
  });
  request.verify?.(digests);
  const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const writeWithTempIn = (tempDir: string) => helper.write({ tempHost: childHostPath(tempDir, newTempName()), bytes, mode, mtimeMs, targetHost });

  let fd: number;
  const tempDirHost = request.tempDirHost ?? dirHost;
  try {
    fd = await writeWithTempIn(tempDirHost);
  } catch (err) {
    const code = errnoOf(err);
    const syscall = (err as NodeJS.ErrnoException).syscall;
    // The uploads directory went missing, or is another mount than the target's: beside the target then, as the streaming path does.
    if (tempDirHost !== dirHost && code === 'ENOENT' && syscall === 'open') request.tempDirMissing?.();
    else if (tempDirHost !== dirHost && code === 'EXDEV') request.renameRefused?.();
    else throw err;
    fd = await writeWithTempIn(dirHost);
  }
  try {
    return { digests, stats: await statDescriptor(fd) };
  } finally {
    // The content is durable and in place before this: a failing close loses nothing.
    await closeDescriptor(fd).catch(() => undefined);
  }
}

/** The body's chunks, exactly `length` bytes of them, or an IncompleteBodyError. */
async function readBody(body: NodeJS.ReadableStream, length: number, path: DavPath): Promise<Buffer[]> {
  const collector = new BodyCollector(length, path);
  await pumpBody(body, collector, path);
  return collector.chunks;
}

class BodyCollector extends Writable {
  readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly limit: number, private readonly path: DavPath) {
    super({ highWaterMark: limit + 1 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(bodyTooLong(this.path, this.limit));
      return;
    }
    this.chunks.push(chunk);
    bodyBytesPassed(chunk.length);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    done(this.bytes < this.limit ? bodyEndedEarly(this.path, this.bytes, this.limit) : null);
  }
}
