/**
 * The members of one collection as a client may see them: reserved names (temp files, state),
 * names no URL can reach (not UTF-8, holding "\"), special files, and symlinks that dangle or
 * lead outside the root are all left out.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { ROOT, type DavPath } from '../paths/davPath';
import { addressableName, childHostPath, type Containment } from './containment';
import { toResourceStat, type ResourceStat } from './resourceStat';
import { errnoOf, NotACollectionError, NotFoundError, storageErrorFromErrno } from './storageErrors';

/** How many members are stat'ed concurrently (the libuv pool has 4 threads by default). */
const BATCH = 64;

/**
 * Lists the collection `path` whose (contained) host directory is `dirHost`, in directory order.
 * Throws NotACollectionError when it is a file, NotFoundError when it is missing or hidden.
 */
export async function listCollection(containment: Containment, path: DavPath, dirHost: string): Promise<ResourceStat[]> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dirHost, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    if (errnoOf(err) === 'ENOTDIR') {
      const found = await containment.resolveForRead(path);
      throw found === null
        ? new NotFoundError(path, `${path}: not found`)
        : new NotACollectionError(path, `${path}: not a collection`);
    }
    throw storageErrorFromErrno(err, path);
  }
  const names: string[] = [];
  for (const entry of entries) {
    const name = addressableName(entry.name);
    if (name !== null) names.push(name);
  }
  const members: ResourceStat[] = [];
  for (let i = 0; i < names.length; i += BATCH) {
    const found = await Promise.all(
      names.slice(i, i + BATCH).map(async (name) => {
        const memberPath = path === ROOT ? '/' + name : path + '/' + name;
        const entry = await containment.resolveEntry(childHostPath(dirHost, name), memberPath);
        return entry === null ? null : toResourceStat(memberPath, entry.stats);
      }),
    );
    for (const member of found) if (member !== null) members.push(member);
  }
  return members;
}
