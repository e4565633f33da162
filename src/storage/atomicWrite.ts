/**
 * Atomic replacement of one file (architecture.md rule 8): the body streams into a temp file on
 * the target's filesystem (in the uploads directory, uploadsDirectory.ts, or beside the target),
 * which is fsynced and renamed over the target; the target's directory is fsynced last. Until the
 * rename the old content stays byte-identical, and on any failure the temp file is removed.
 * A small body of announced length is read into memory first and written, fsynced and renamed in
 * one trip through the thread pool by the native helper, when it is built (smallBodyWrite.ts).
 *
 * The body is read with `pipe` (bodyPump.ts: it honours backpressure, so memory stays flat whatever
 * the size) rather than `stream.pipeline`, because pipeline destroys its source on failure and
 * destroying an http.IncomingMessage destroys its socket: a 507 for a full disk could then never
 * be sent. So a failed write leaves the body unpiped and paused, and the caller decides what to do
 * with the rest.
 */
import { randomHex } from '../randomHex';
import { constants as fsConstants, createReadStream, type Stats } from 'node:fs';
import { copyFile, lstat, open, rename, unlink } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { DavPath } from '../paths/davPath';
import { childHostPath, RESERVED_PREFIX } from './containment';
import { errnoOf, storageErrorFromErrno } from './storageErrors';
import { bodyEndedEarly, bodyTooLong, pumpBody } from './bodyPump';
import { SMALL_BODY_MAX, writeSmallBody } from './smallBodyWrite';
import { durableWriteHelper } from './durableWriteHelper';
import { timedFsync } from './fsyncTiming';
import { EarlyFlushes } from './earlyFlushes';
import { beginWrite } from './writesInFlight';
import { bodyBytesPassed } from './spentBodyBuffers';
import { startContentDigests, type ContentDigester, type ContentDigests, type DigestsNow } from './contentDigests';
import {
  chmodDescriptor, closeDescriptor, openDescriptor, openDirectoryDescriptor, setDescriptorTimes,
  statDescriptor, syncDescriptor, writeAllToDescriptor,
} from './fileDescriptorCalls';

export type { ContentDigests, DigestsNow } from './contentDigests';
export { EARLY_FLUSH_BYTES } from './earlyFlushes';

const COPY_FLAGS = fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE;

/** How many body bytes may wait for the disk before the body is paused. */
export const SINK_HIGH_WATER_MARK = 1 << 20;

/** A fresh temp name (reserved, so never visible by URL): `.keepdav-tmp-<16 hex digits>`. */
export function tempName(): string {
  return `${RESERVED_PREFIX}tmp-${randomHex(8)}`;
}

/**
 * fsyncs a directory so a rename or create inside it survives a crash. Filesystems that cannot
 * fsync a directory (EINVAL, ENOTSUP) are tolerated; other errors are thrown unchanged.
 *
 * Group commit: concurrent callers for one directory share fsyncs. A caller arriving while a
 * sync of that directory runs waits for the next one, which starts after the running one ends
 * and so covers every change made before the caller asked; all callers arriving meanwhile share it.
 */
export function fsyncDirectory(dirHost: string | Buffer): Promise<void> {
  const key = dirHost.toString();
  const state = directorySyncs.get(key);
  if (!state) {
    const running = syncDirectoryNow(dirHost).finally(() => settle(key));
    directorySyncs.set(key, { running, next: null });
    return running;
  }
  state.next ??= state.running.catch(() => undefined).then(() => {
    const current = directorySyncs.get(key);
    if (current) {
      current.running = syncDirectoryNow(dirHost).finally(() => settle(key));
      current.next = null;
      return current.running;
    }
    return syncDirectoryNow(dirHost);
  });
  return state.next;
}

interface DirectorySyncState {
  running: Promise<void>;
  next: Promise<void> | null;
}

const directorySyncs = new Map<string, DirectorySyncState>();

/** Forgets the directory once its last sync ended with nobody waiting for another. */
function settle(key: string): void {
  const state = directorySyncs.get(key);
  if (state && state.next === null) directorySyncs.delete(key);
}

async function syncDirectoryNow(dirHost: string | Buffer): Promise<void> {
  const dir = await openDirectoryDescriptor(dirHost);
  try {
    await timedFsync('directory', () => syncDescriptor(dir));
  } catch (err) {
    const code = errnoOf(err);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  } finally {
    await closeDescriptor(dir);
  }
}

/** fs.copyFile (mode bits come along, a reflink where the filesystem offers one), then the times of `stats`, then fsync. */
export async function copyFileDurably(src: string | Buffer, dst: string | Buffer, stats: Stats): Promise<void> {
  await copyFile(src, dst, COPY_FLAGS);
  // Read-only is enough for futimes (we own the file) and fsync, and works on a 0444 copy.
  const fh = await open(dst, fsConstants.O_RDONLY);
  try {
    await fh.utimes(stats.atimeMs / 1000, stats.mtimeMs / 1000);
    await timedFsync('file', () => fh.sync());
  } finally {
    await fh.close();
  }
}

/**
 * The durable temporary `tempHost` (whose stats are `tempStats`: its mode and mtime are final),
 * copied beside the target and renamed over it; returns the new file's stats. For a temporary
 * that cannot be renamed there (EXDEV). On a failure the copy is removed.
 */
async function copyIntoPlace(tempHost: string, tempStats: Stats, dirHost: string, targetHost: string): Promise<Stats> {
  const besideHost = childHostPath(dirHost, tempName());
  try {
    await copyFileDurably(tempHost, besideHost, tempStats);
    await rename(besideHost, targetHost);
  } catch (err) {
    await unlink(besideHost).catch(() => undefined);
    throw err;
  }
  return lstat(targetHost);
}

/**
 * A Writable over an open file descriptor that counts bytes, refuses more than `limit`, and hashes the
 * bytes as they pass (SHA-1 and MD5; a large body only for the checksums a client claims: contentDigests.ts).
 */
class FileSink extends Writable {
  bytes = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly digester: ContentDigester;
  /** fdatasyncs started while the body still arrives (earlyFlushes.ts). */
  private readonly flushes: EarlyFlushes;

  constructor(
    private readonly fd: number,
    private readonly host: string,
    private readonly limit: number | undefined,
    private readonly path: DavPath,
    digestsNow: DigestsNow,
  ) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
    this.digester = startContentDigests(limit, digestsNow);
    this.flushes = new EarlyFlushes(fd);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writeBuffers([chunk], done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.writeBuffers(chunks.map((c) => c.chunk), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.limit !== undefined && this.bytes < this.limit) {
      done(bodyEndedEarly(this.path, this.bytes, this.limit));
    } else done();
  }

  /** The digests of every byte written (null: a large body's, left for after the answer); call once, after 'finish' (the file must still be open). */
  digests(): Promise<ContentDigests | null> {
    const { fd, host } = this;
    return this.digester.result(() => createReadStream(host, { fd, start: 0, autoClose: false, emitClose: false })[Symbol.asyncIterator]());
  }

  /** Waits for an early flush still running; throws what any of them failed with. Call before the final fsync. */
  flushed(): Promise<void> {
    return this.flushes.settled();
  }

  /** Waits for a write or flush still running, so the caller may close the file once 'close' is emitted. */
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Destroyed before its end (a failed upload): the hashing of it is dropped.
    if (!this.writableFinished) this.digester.cancel();
    Promise.allSettled([this.inFlight, this.flushes.idle()]).then(() => done(err));
  }

  private writeBuffers(buffers: Buffer[], done: (err?: Error | null) => void): void {
    const before = this.bytes;
    for (const b of buffers) this.bytes += b.length;
    if (this.limit !== undefined && this.bytes > this.limit) {
      done(bodyTooLong(this.path, this.limit));
      return;
    }
    const hashing = this.digester.update(buffers);
    const writing = writeAllToDescriptor(this.fd, buffers);
    // The buffers before these are spent now (spentBodyBuffers.ts).
    bodyBytesPassed(this.bytes - before);
    this.inFlight = hashing ? Promise.all([writing, hashing]).then(() => undefined) : writing;
    this.inFlight.then(() => {
      this.flushes.written(this.bytes - before);
      done();
    }, done);
  }
}

export interface AtomicWriteRequest {
  /** The resource being written (for errors). */
  path: DavPath;
  /** Real host path of the directory that holds the target. */
  dirHost: string;
  /** Where to create the temporary (on the target's filesystem: uploadsDirectory.ts); `dirHost` when absent. */
  tempDirHost?: string;
  /** Told when creating the temporary in `tempDirHost` failed with ENOENT (it went beside the target instead). */
  tempDirMissing?: () => void;
  /** Told when the temporary could not be renamed from `tempDirHost` (EXDEV; it was copied beside the target instead). */
  renameRefused?: () => void;
  /** Host path to rename the temp file onto (inside `dirHost`). */
  targetHost: string;
  body: NodeJS.ReadableStream;
  expectedLength?: number;
  mtimeMs?: number;
  /** Permission bits to give the new file (those of the file it replaces). */
  mode?: number;
  /**
   * Called with the content's digests once the body is complete, before the rename: a throw
   * (a client-sent checksum that does not match) leaves the target untouched and is rethrown as is.
   */
  verify?: (digests: ContentDigests | null) => void;
  /**
   * What of a large body is hashed as it streams (`verify` checks claimed checksums; 'none' when
   * absent): with 'none' its digests are null in the outcome, with 'sha1' its MD5.
   */
  digestsNow?: DigestsNow;
}

/** What a completed atomic write produced. */
export interface AtomicWriteOutcome {
  /** Null for a large body that was not hashed on the way in (contentDigests.ts). */
  digests: ContentDigests | null;
  /** The new file's stats, taken after the rename (so its ctime is the one a later stat sees). */
  stats: Stats;
}

/**
 * Streams `body` into a temp file next to the target (or, small, writes it from memory:
 * smallBodyWrite.ts), fsyncs it (after setting the mtime when given), renames it over the target
 * and fsyncs the directory. Resolves once all is durable.
 * Throws RangeError for a bad expectedLength/mtimeMs (before touching the disk);
 * IncompleteBodyError when the body fails, aborts, or its length differs from expectedLength;
 * NoSpaceError, AccessDeniedError, ParentMissingError, IsACollectionError (a collection appeared
 * at the target) as mapped by storageErrorFromErrno; whatever `verify` throws. After any throw no
 * temp file remains. Resolves with the digests of the content written and the new file's stats.
 */
export async function writeAtomically(request: AtomicWriteRequest): Promise<AtomicWriteOutcome> {
  const done = beginWrite();
  try {
    return await writeAtomicallyCounted(request);
  } finally {
    done();
  }
}

async function writeAtomicallyCounted(request: AtomicWriteRequest): Promise<AtomicWriteOutcome> {
  const { path, dirHost, expectedLength, mtimeMs } = request;
  if (expectedLength !== undefined && !(Number.isSafeInteger(expectedLength) && expectedLength >= 0)) {
    throw new RangeError(`expectedLength must be a non-negative integer, got ${expectedLength}`);
  }
  if (mtimeMs !== undefined && !Number.isFinite(mtimeMs)) throw new RangeError(`mtimeMs must be finite, got ${mtimeMs}`);
  // A small body of announced length is made durable in one trip through the pool (smallBodyWrite.ts).
  const helper = expectedLength !== undefined && expectedLength <= SMALL_BODY_MAX ? durableWriteHelper() : null;
  let outcome: AtomicWriteOutcome;
  try {
    outcome = helper ? await writeSmallBody(helper, request, tempName) : await streamIntoPlace(request);
  } catch (err) {
    throw storageErrorFromErrno(err, path, 'create');
  }
  await fsyncDirectory(dirHost);
  return outcome;
}

/** The body streamed into a temporary, fsynced and renamed over the target (errors unmapped; the directory's fsync is the caller's). */
async function streamIntoPlace(request: AtomicWriteRequest): Promise<AtomicWriteOutcome> {
  const { path, dirHost, targetHost, body, expectedLength, mtimeMs, mode } = request;
  let tempHost = childHostPath(request.tempDirHost ?? dirHost, tempName());
  let fd: number | undefined;
  let tempCreated = false;
  let digests: ContentDigests | null;
  let stats: Stats;
  try {
    // Read-write: should the hashing thread fail, the digests are read back from this file.
    const flags = fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
    try {
      fd = await openDescriptor(tempHost, flags, 0o666);
    } catch (err) {
      // The uploads directory went missing: this write goes beside its target (where ENOENT means a missing parent).
      if (errnoOf(err) !== 'ENOENT' || request.tempDirHost === undefined || request.tempDirHost === dirHost) throw err;
      request.tempDirMissing?.();
      tempHost = childHostPath(dirHost, tempName());
      fd = await openDescriptor(tempHost, flags, 0o666);
    }
    tempCreated = true;
    const written = fd;
    if (mode !== undefined) await chmodDescriptor(written, mode & 0o7777);
    const sink = new FileSink(written, tempHost, expectedLength, path, request.digestsNow ?? 'none');
    await pumpBody(body, sink, path);
    // The last bytes may still be hashing (on the worker): the file syncs meanwhile.
    const digesting = sink.digests();
    // The mtime is set before the fsync so that the metadata is made durable with the data.
    const syncing = (async () => {
      // Most of a large body is on the disk already (EARLY_FLUSH_BYTES); an early flush's error fails the write.
      await sink.flushed();
      if (mtimeMs !== undefined) await setDescriptorTimes(written, Date.now() / 1000, mtimeMs / 1000);
      await timedFsync('file', () => syncDescriptor(written));
    })();
    const [hashed, durable] = await Promise.allSettled([digesting, syncing]);
    if (hashed.status === 'rejected') throw hashed.reason;
    if (durable.status === 'rejected') throw durable.reason;
    digests = hashed.value;
    request.verify?.(digests);
    try {
      await rename(tempHost, targetHost);
      tempCreated = false;
      stats = await statDescriptor(written);
    } catch (err) {
      if (errnoOf(err) !== 'EXDEV') throw err;
      // Same device, another mount (a bind mount under the root): copied beside the target once.
      request.renameRefused?.();
      stats = await copyIntoPlace(tempHost, await statDescriptor(written), dirHost, targetHost);
      await unlink(tempHost).catch(() => undefined);
      tempCreated = false;
    }
  } catch (err) {
    if (tempCreated) await unlink(tempHost).catch(() => undefined);
    throw err;
  } finally {
    // The content is durable before this: a failing close loses nothing.
    if (fd !== undefined) await closeDescriptor(fd).catch(() => undefined);
  }
  return { digests, stats };
}
