/**
 * Copy of a file or a collection tree, preserving modification times and permission bits.
 *
 * A file is copied (fs.copyFile, with a reflink where the filesystem offers one) into a temp name
 * next to the destination, fsynced and renamed into place. A collection is built whole under a
 * temp name (reserved, so invisible) and renamed into place once complete: the copy appears all
 * at once or not at all, and a failure leaves no partial tree behind (RFC 4918 §9.8.8 lets us
 * answer the failure as a whole).
 */
import type { Dirent, Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, realpath, rename, stat, symlink, unlink, utimes } from 'node:fs/promises';
import type { DavPath } from '../paths/davPath';
import { copyFileDurably, fsyncDirectory, tempName } from './atomicWrite';
import { addressableName, childHostBytes, childHostPath } from './containment';
import { memberPath, removeTree } from './removeTree';
import { isMissingErrno, storageErrorFromErrno } from './storageErrors';

/** How many members of one directory are copied concurrently. */
const BATCH = 8;

/**
 * 'visible': copy what a client sees: skip reserved and unaddressable names and special files,
 * follow symlinks that stay inside the root (copying their content), skip the others.
 * 'exact': copy every entry and recreate symlinks as symlinks (MOVE across devices).
 */
export type CopyMode = 'visible' | 'exact';

export interface CopyRequest {
  srcHost: string;
  /** Stats of the source: followed in 'visible' mode, lstat in 'exact' mode. */
  srcStats: Stats;
  srcPath: DavPath;
  /** Real host path of the destination's parent directory. */
  dstDirHost: string;
  dstHost: string;
  dstPath: DavPath;
  depth: '0' | 'infinity';
  mode: CopyMode;
  /** The containment rule for symlinks met inside the tree ('visible' mode). */
  isVisibleRealPath(real: string): boolean;
}

interface Walk {
  mode: CopyMode;
  isVisibleRealPath(real: string): boolean;
}

/**
 * Copies the source to the (absent) destination; the destination appears atomically and its
 * directory is fsynced. Throws the first failure, mapped by storageErrorFromErrno (NoSpaceError,
 * AccessDeniedError, AlreadyExistsError if the destination appeared meanwhile...); after a
 * failure no temp entry remains.
 */
export async function copyResource(request: CopyRequest): Promise<void> {
  const { srcHost, srcStats, dstDirHost, dstHost, dstPath } = request;
  const tempHost = childHostPath(dstDirHost, tempName());
  const walk: Walk = { mode: request.mode, isVisibleRealPath: request.isVisibleRealPath };
  try {
    if (srcStats.isSymbolicLink()) {
      await symlink(await readlink(srcHost), tempHost);
    } else if (srcStats.isDirectory()) {
      await mkdir(tempHost, 0o700);
      if (request.depth === 'infinity') {
        const ancestors = new Set([inodeKey(srcStats)]);
        await copyMembers(walk, Buffer.from(srcHost), Buffer.from(tempHost), request.srcPath, dstPath, ancestors);
      }
      await finishDirectory(tempHost, srcStats);
    } else {
      await copyFileDurably(srcHost, tempHost, srcStats);
    }
    await rename(tempHost, dstHost);
  } catch (err) {
    await discard(tempHost, srcStats.isDirectory());
    throw storageErrorFromErrno(err, dstPath, 'create');
  }
  await fsyncDirectory(dstDirHost);
}

/** Removes a temp entry after a failure, ignoring errors. */
async function discard(tempHost: string, isDirectory: boolean): Promise<void> {
  if (isDirectory) await removeTree(Buffer.from(tempHost), '/');
  else await unlink(tempHost).catch(() => undefined);
}

function inodeKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** Gives a filled directory copy its source's mode and times, then makes its entries durable. */
async function finishDirectory(dst: string | Buffer, stats: Stats): Promise<void> {
  await chmod(dst, stats.mode & 0o7777);
  await utimes(dst, stats.atimeMs / 1000, stats.mtimeMs / 1000);
  await fsyncDirectory(dst);
}

/** Copies every member of `srcDir` into the new directory `dstDir`; throws the first failure. */
async function copyMembers(walk: Walk, srcDir: Buffer, dstDir: Buffer, srcPath: DavPath, dstPath: DavPath, ancestors: Set<string>): Promise<void> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(srcDir, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    throw storageErrorFromErrno(err, srcPath);
  }
  for (let i = 0; i < entries.length; i += BATCH) {
    const results = await Promise.allSettled(
      entries.slice(i, i + BATCH).map((entry) => copyEntry(walk, srcDir, dstDir, entry.name, srcPath, dstPath, ancestors)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

async function copyEntry(walk: Walk, srcDir: Buffer, dstDir: Buffer, rawName: Buffer, srcParent: DavPath, dstParent: DavPath, ancestors: Set<string>): Promise<void> {
  const name = walk.mode === 'visible' ? addressableName(rawName) : rawName.toString();
  if (name === null) return;
  let src = childHostBytes(srcDir, rawName);
  const dst = childHostBytes(dstDir, rawName);
  const srcPath = memberPath(srcParent, name);
  const dstPath = memberPath(dstParent, name);
  let stats: Stats;
  let linkTarget: Buffer | null = null;
  try {
    stats = await lstat(src);
    if (stats.isSymbolicLink() && walk.mode === 'exact') {
      linkTarget = await readlink(src, { encoding: 'buffer' });
    } else if (stats.isSymbolicLink()) {
      const real = await visibleRealPath(walk, src);
      if (real === null) return;
      src = real;
      stats = await stat(real);
    }
  } catch (err) {
    if (isMissingErrno(err)) return; // vanished meanwhile: nothing to copy
    throw storageErrorFromErrno(err, srcPath);
  }
  try {
    if (linkTarget !== null) {
      await symlink(linkTarget, dst);
    } else if (stats.isFile()) {
      await copyFileDurably(src, dst, stats);
    } else if (stats.isDirectory()) {
      const key = inodeKey(stats);
      if (ancestors.has(key)) return; // a symlink back up the tree: copying it would never end
      await mkdir(dst, 0o700);
      await copyMembers(walk, src, dst, srcPath, dstPath, new Set(ancestors).add(key));
      await finishDirectory(dst, stats);
    }
    // Sockets, FIFOs and devices are not resources: skipped.
  } catch (err) {
    throw storageErrorFromErrno(err, dstPath, 'create');
  }
}

/** The realpath of a symlink when it stays visible inside the root, else null. */
async function visibleRealPath(walk: Walk, link: Buffer): Promise<Buffer | null> {
  let real: Buffer;
  try {
    real = await realpath(link, { encoding: 'buffer' });
  } catch {
    return null; // dangling or looping: invisible, so not copied
  }
  const text = real.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(real) || !walk.isVisibleRealPath(text)) return null;
  return real;
}
