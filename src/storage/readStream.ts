/**
 * Opening a file for reading with as few syscalls as the common case allows: one open (which
 * refuses to follow a final symlink) and one fstat; the parent's containment comes from the
 * Containment cache. A final symlink is followed only when it stays inside the root. The fstat
 * also tells whether the file opened is the version the caller stat'ed (`expected`): a PUT may
 * rename another over the path in between, and a GET must not send one version's bytes under
 * another's ETag and length.
 */
import type { Stats } from 'node:fs';
import { constants as fsConstants, openSync, fstatSync, readSync, closeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FileContent } from './fileContent';
import { parentOf, ROOT, type DavPath } from '../paths/davPath';
import { assertDavPath, hasReservedSegment, type Containment } from './containment';
import { errnoOf, IsACollectionError, NotFoundError, ReplacedMeanwhileError, storageErrorFromErrno } from './storageErrors';
import { toResourceStat, unchangedSince, type StatIdentity } from './resourceStat';

/** O_NONBLOCK: opening a FIFO never hangs (and is refused after the fstat). */
const READ_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK;
/** Bytes start..end, both inclusive (as in an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A stream of the file at `path` (all of it, or `range`; a range past the end yields what
 * exists). The stream closes its file when it ends or is destroyed; read errors after the open
 * are emitted on the stream unmapped. Throws BadPathError, RangeError (malformed range),
 * NotFoundError (missing or hidden), IsACollectionError, AccessDeniedError, and
 * ReplacedMeanwhileError when the file opened is not `expected`.
 */
export async function openReadStream(containment: Containment, path: DavPath, range?: ByteRange, expected?: StatIdentity): Promise<FileContent> {
  assertDavPath(path);
  if (range !== undefined && !isByteRange(range)) throw new RangeError(`bad range ${range.start}-${range.end}`);
  if (path === ROOT) throw new IsACollectionError(path, '/: is a collection');
  if (hasReservedSegment(path) || !(await containment.isReadableDir(parentOf(path)!))) throw notFound(path);
  const fh = await openNoEscape(containment, path);
  let stats: Stats;
  try {
    stats = await fh.stat();
  } catch (err) {
    await fh.close();
    throw storageErrorFromErrno(err, path);
  }
  if (!stats.isFile() || (expected && !isVersion(path, stats, expected))) {
    await fh.close();
    throw notAFileOrReplaced(path, stats);
  }
  // Without a range, stop at the size seen by fstat: this saves the last read (the one finding
  // EOF), and the bytes served are those of the one inode opened (writes replace, never append).
  return range ? new FileContent(fh, range.start, range.end) : new FileContent(fh, 0, stats.size - 1);
}

function isByteRange(range: ByteRange): boolean {
  return Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start;
}

function notFound(path: DavPath): NotFoundError {
  return new NotFoundError(path, `${path}: not found`);
}

/** Whether the opened file at `path` (its `stats`) is the version `expected` describes. */
function isVersion(path: DavPath, stats: Stats, expected: StatIdentity): boolean {
  return unchangedSince(expected, toResourceStat(path, stats));
}

/** Why an opened file cannot be read for the caller: no file (a collection, a FIFO), or not the expected version. */
function notAFileOrReplaced(path: DavPath, stats: Stats): Error {
  if (stats.isDirectory()) return new IsACollectionError(path, `${path}: is a collection`);
  if (!stats.isFile()) return notFound(path);
  return new ReplacedMeanwhileError(path, `${path}: replaced while it was being opened`);
}

/** Opens without following a final symlink; a symlink is followed only when it stays inside. */
async function openNoEscape(containment: Containment, path: DavPath): Promise<FileHandle> {
  const lexical = containment.hostPathOf(path);
  try {
    return await open(lexical, READ_FLAGS | fsConstants.O_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) !== 'ELOOP') throw storageErrorFromErrno(err, path);
  }
  const entry = await containment.resolveEntry(lexical, path);
  if (entry === null) throw notFound(path);
  if (entry.stats.isDirectory()) throw new IsACollectionError(path, `${path}: is a collection`);
  try {
    return await open(entry.host, READ_FLAGS);
  } catch (err) {
    throw storageErrorFromErrno(err, path);
  }
}

/**
 * The whole content of a small file in one buffer, read with blocking calls: open, fstat, read,
 * close of a few KiB cost microseconds when cached, where four thread-pool round trips cost far
 * more (nginx serves small files the same way). Same checks and errors as openReadStream; at most
 * `maxBytes` are read. A final symlink takes the asynchronous path, which checks where it leads.
 */
export async function readSmallFile(containment: Containment, path: DavPath, maxBytes: number, expected?: StatIdentity): Promise<Buffer> {
  assertDavPath(path);
  if (path === ROOT) throw new IsACollectionError(path, '/: is a collection');
  if (hasReservedSegment(path) || !(await containment.isReadableDir(parentOf(path)!))) throw notFound(path);
  let fd: number;
  try {
    fd = openSync(containment.hostPathOf(path), READ_FLAGS | fsConstants.O_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) !== 'ELOOP') throw storageErrorFromErrno(err, path);
    return readAll(await openNoEscape(containment, path), path, maxBytes, expected);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || (expected && !isVersion(path, stats, expected))) throw notAFileOrReplaced(path, stats);
    const buffer = Buffer.allocUnsafe(Math.min(stats.size, maxBytes));
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  } catch (err) {
    throw err instanceof Error && 'path' in err ? err : storageErrorFromErrno(err, path);
  } finally {
    closeSync(fd);
  }
}

/** Reads up to `maxBytes` of an opened file and closes it. */
async function readAll(fh: FileHandle, path: DavPath, maxBytes: number, expected?: StatIdentity): Promise<Buffer> {
  try {
    const stats = await fh.stat();
    if (!stats.isFile() || (expected && !isVersion(path, stats, expected))) throw notAFileOrReplaced(path, stats);
    const buffer = Buffer.allocUnsafe(Math.min(stats.size, maxBytes));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await fh.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  } finally {
    await fh.close();
  }
}
