/**
 * Calls on raw file descriptors, for the atomic write's temporary file and the directory syncs.
 * Raw descriptors rather than FileHandles: a FileHandle is a native object per open file (built,
 * tracked for collection, torn down), and its close must go through the thread pool, where a
 * descriptor's close is made inline. Calls that only touch the open file's inode in memory go
 * inline when inlineCalls.ts allows it; the others (open, fsync) always go through the pool.
 *
 * Every descriptor opened here must be closed exactly once with closeDescriptor.
 */
import * as fs from 'node:fs';
import { inline, inlineAllowed } from './inlineCalls';

/** A callback call through the pool as a promise; fs's function is looked up at each call (tests replace it). */
function viaPool<T>(start: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
}

const openAsync = (host: string | Buffer, flags: number, mode?: number) => viaPool<number>((done) => fs.open(host, flags, mode, done));
const closeAsync = (fd: number) => viaPool<void>((done) => fs.close(fd, (err) => done(err, undefined)));
const fsyncAsync = (fd: number) => viaPool<void>((done) => fs.fsync(fd, (err) => done(err, undefined)));
const fdatasyncAsync = (fd: number) => viaPool<void>((done) => fs.fdatasync(fd, (err) => done(err, undefined)));
const fstatAsync = (fd: number) => viaPool<fs.Stats>((done) => fs.fstat(fd, done));
const fchmodAsync = (fd: number, mode: number) => viaPool<void>((done) => fs.fchmod(fd, mode, (err) => done(err, undefined)));
const futimesAsync = (fd: number, atime: number, mtime: number) =>
  viaPool<void>((done) => fs.futimes(fd, atime, mtime, (err) => done(err, undefined)));
const writeAsync = (fd: number, buffer: Buffer) => viaPool<number>((done) => fs.write(fd, buffer, 0, buffer.length, null, done));
const writevAsync = (fd: number, buffers: Buffer[]) => viaPool<number>((done) => fs.writev(fd, buffers, done));

/** Writes of at most this many bytes go into the page cache inline. */
const INLINE_WRITE_MAX = 64 * 1024;

/** Opens (or creates) a file through the pool: creating takes the directory's lock. */
export function openDescriptor(host: string, flags: number, mode?: number): Promise<number> {
  return openAsync(host, flags, mode);
}

/** Opens an existing directory for an fsync (a walk of cached names, so inline when allowed). */
export async function openDirectoryDescriptor(host: string | Buffer): Promise<number> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
  return inlineAllowed() ? inline(() => fs.openSync(host, flags)) : openAsync(host, flags);
}

export async function closeDescriptor(fd: number): Promise<void> {
  if (inlineAllowed()) inline(() => fs.closeSync(fd));
  else await closeAsync(fd);
}

/** fsync(2): waits for the disk, so always through the pool. */
export function syncDescriptor(fd: number): Promise<void> {
  return fsyncAsync(fd);
}

/** fdatasync(2), the file's bytes without its times: waits for the disk, so always through the pool. */
export function dataSyncDescriptor(fd: number): Promise<void> {
  return fdatasyncAsync(fd);
}

export async function statDescriptor(fd: number): Promise<fs.Stats> {
  return inlineAllowed() ? inline(() => fs.fstatSync(fd)) : fstatAsync(fd);
}

export async function chmodDescriptor(fd: number, mode: number): Promise<void> {
  if (inlineAllowed()) inline(() => fs.fchmodSync(fd, mode));
  else await fchmodAsync(fd, mode);
}

/** Sets the access and modification times (seconds). */
export async function setDescriptorTimes(fd: number, atime: number, mtime: number): Promise<void> {
  if (inlineAllowed()) inline(() => fs.futimesSync(fd, atime, mtime));
  else await futimesAsync(fd, atime, mtime);
}

/** Writes every byte of `buffers` at the file's current position, looping over short writes. */
export async function writeAllToDescriptor(fd: number, buffers: readonly Buffer[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length > 0) {
    const bytesWritten = await writeSome(fd, pending);
    if (bytesWritten <= 0) throw new Error('short write: no progress');
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const buffer of pending) {
      if (skip >= buffer.length) skip -= buffer.length;
      else {
        rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    pending = rest;
  }
}

async function writeSome(fd: number, buffers: Buffer[]): Promise<number> {
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  if (total <= INLINE_WRITE_MAX && inlineAllowed()) {
    return inline(() => (buffers.length === 1 ? fs.writeSync(fd, buffers[0]) : fs.writevSync(fd, buffers)));
  }
  return buffers.length === 1 ? writeAsync(fd, buffers[0]) : writevAsync(fd, buffers);
}
