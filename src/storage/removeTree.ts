/**
 * Removal of a directory tree: as much as possible, never following a symlink (a link is
 * unlinked, what it points to is left alone). Names are handled as bytes, so entries whose names
 * are not UTF-8 go too; reserved entries (temp files) inside the tree go with it.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import type { DavPath } from '../paths/davPath';
import { childHostBytes } from './containment';
import { errnoOf, storageErrorFromErrno } from './storageErrors';

/** How many entries of one directory are removed concurrently. */
const BATCH = 16;

/** The DavPath-like name of a member, for error messages only (not necessarily a valid DavPath). */
export function memberPath(parent: DavPath, name: Buffer | string): DavPath {
  return (parent === '/' ? '/' : parent + '/') + name.toString();
}

/**
 * Removes the directory at `host` (named `path`) and everything below it. Keeps going past
 * failures and returns the first one, mapped by storageErrorFromErrno (null when all went).
 * A tree that vanishes meanwhile is no failure. Never throws.
 */
export async function removeTree(host: Buffer, path: DavPath): Promise<Error | null> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(host, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    return errnoOf(err) === 'ENOENT' ? null : storageErrorFromErrno(err, path);
  }
  let first: Error | null = null;
  for (let i = 0; i < entries.length; i += BATCH) {
    const failures = await Promise.all(entries.slice(i, i + BATCH).map((entry) => removeEntry(host, path, entry)));
    first ??= failures.find((failure) => failure !== null) ?? null;
  }
  try {
    await rmdir(host);
  } catch (err) {
    // After a member failed, ENOTEMPTY here is a consequence, not the first failure.
    if (first === null && errnoOf(err) !== 'ENOENT') first = storageErrorFromErrno(err, path);
  }
  return first;
}

async function removeEntry(dir: Buffer, dirPath: DavPath, entry: Dirent<Buffer>): Promise<Error | null> {
  const host = childHostBytes(dir, entry.name);
  const path = memberPath(dirPath, entry.name);
  if (entry.isDirectory()) return removeTree(host, path);
  try {
    await unlink(host);
    return null;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') return null;
    // The entry type was unknown (DT_UNKNOWN) and it is a directory after all.
    if (code === 'EISDIR' || code === 'EPERM') {
      const isDirectory = await lstat(host).then((s) => s.isDirectory(), () => false);
      if (isDirectory) return removeTree(host, path);
    }
    return storageErrorFromErrno(err, path);
  }
}

/**
 * Removes one file or (non-followed) symlink, or a whole directory tree, at `host`.
 * Throws the first failure (mapped); ENOENT throws NotFoundError.
 */
export async function removeHostEntry(host: string, path: DavPath, isDirectory: boolean): Promise<void> {
  if (isDirectory) {
    const failure = await removeTree(Buffer.from(host), path);
    if (failure !== null) throw failure;
    return;
  }
  try {
    await unlink(host);
  } catch (err) {
    throw storageErrorFromErrno(err, path);
  }
}
