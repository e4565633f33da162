/**
 * The members of one collection as a client may see them: reserved names (temp files, state),
 * names no URL can reach (not UTF-8, holding "\"), special files, and symlinks that dangle or
 * lead outside the root are all left out.
 */
import type { Dirent } from 'node:fs';
import { lstatSync } from 'node:fs';
import { readdir, opendir } from 'node:fs/promises';
import type { Dir } from 'node:fs';
import { joinPath, type DavPath } from '../paths/davPath';
import { childHostPath, isAddressableText, type Containment } from './containment';
import { toResourceStat, type ResourceStat } from './resourceStat';
import { writesInFlight } from './writesInFlight';
import { inline, inlineAllowed } from './inlineCalls';
import { MEMBER_FIELDS, MemberKind, statMembersOnThread } from './memberStatThread';
import { errnoOf, NotACollectionError, NotFoundError, storageErrorFromErrno } from './storageErrors';

/** How many members needing the careful path (symlinks, errors) are resolved concurrently. */
const BATCH = 64;

/**
 * A member's stats by a synchronous lstat, when it is a plain file or directory; undefined when
 * it needs the careful, asynchronous path (a symlink, a special file, an error). Right after the
 * readdir the inodes are cached, so this costs a microsecond or two, where a thread-pool round
 * trip per member costs ~20 µs: a PROPFIND of 1,000 members spent most of its time there.
 */
function plainMemberStats(host: string): ResourceStatSource | undefined {
  try {
    const stats = lstatSync(host, { throwIfNoEntry: false });
    return stats && (stats.isFile() || stats.isDirectory()) ? stats : undefined;
  } catch {
    return undefined;
  }
}

type ResourceStatSource = Parameters<typeof toResourceStat>[1];

/**
 * Lists the collection `path` whose (contained) host directory is `dirHost`, in directory order.
 * Throws NotACollectionError when it is a file, NotFoundError when it is missing or hidden.
 */
export async function listCollection(containment: Containment, path: DavPath, dirHost: string): Promise<ResourceStat[]> {
  let entries: string[];
  try {
    entries = await readdir(dirHost);
  } catch (err) {
    throw await listingError(err, containment, path);
  }
  const take = nameFilter();
  return statMembers(containment, path, dirHost, entries.filter(take));
}

/**
 * A filter of the names one listing reads, as text (storage/containment.ts, isAddressableText):
 * reserved names and names holding "\" are left out, and of the names holding U+FFFD (one may
 * stand for bytes that are not UTF-8) only the first: the lstat of the name written back as UTF-8
 * then decides whether it is listed at all.
 */
function nameFilter(): (name: string) => boolean {
  let replaced: Set<string> | null = null;
  return (name) => {
    if (!isAddressableText(name)) return false;
    if (!name.includes('\uFFFD')) return true;
    replaced ??= new Set();
    if (replaced.has(name)) return false;
    replaced.add(name);
    return true;
  };
}

/** Batches of at least this many names are looked up on the member stat thread; smaller ones inline (a round trip would cost more). */
const THREAD_MIN_MEMBERS = 32;

/** The members named `names` of the collection `path` (host `dirHost`); vanished or hidden ones are left out. */
async function statMembers(containment: Containment, path: DavPath, dirHost: string, names: readonly string[]): Promise<ResourceStat[]> {
  const members: ResourceStat[] = [];
  const careful: string[] = [];
  const packed = names.length >= THREAD_MIN_MEMBERS ? await statMembersOnThread(dirHost, names).catch(() => null) : null;
  if (packed !== null) {
    for (let i = 0, at = 0; i < names.length; i++, at += MEMBER_FIELDS) {
      const kind = packed[at];
      if (kind === MemberKind.Careful) {
        careful.push(names[i]);
        continue;
      }
      const isCollection = kind === MemberKind.Directory;
      members.push({
        path: joinPath(path, names[i]),
        isCollection,
        size: isCollection ? 0 : packed[at + 1],
        mtimeMs: packed[at + 2],
        ctimeMs: packed[at + 3],
        birthtimeMs: packed[at + 4],
        ino: packed[at + 5],
        dev: packed[at + 6],
      });
    }
  } else if (inlineAllowed()) {
    // One inline call for the whole batch (inlineCalls.ts): timing each lstat cost more than it.
    inline(() => {
      for (const name of names) {
        const stats = plainMemberStats(childHostPath(dirHost, name));
        if (stats) members.push(toResourceStat(joinPath(path, name), stats));
        else careful.push(name);
      }
    });
  } else careful.push(...names);
  for (let i = 0; i < careful.length; i += BATCH) {
    const found = await Promise.all(
      careful.slice(i, i + BATCH).map(async (name) => {
        const entry = await containment.resolveEntry(childHostPath(dirHost, name), joinPath(path, name));
        return entry === null ? null : toResourceStat(joinPath(path, name), entry.stats);
      }),
    );
    for (const member of found) if (member !== null) members.push(member);
  }
  return members;
}

/** A collection's members read a batch at a time (a listing of 100,000 never sits in memory whole). */
export interface MemberBatches {
  /** The next batch of members (at most the batch size, possibly empty), or null at the end. */
  next(): Promise<ResourceStat[] | null>;
  /** Releases the directory handle (also done at the end). */
  close(): Promise<void>;
}

/**
 * Opens the collection `path` for reading in batches of `batchSize` names: the directory is read
 * incrementally (opendir), so memory stays bounded however large it is. Opening throws what
 * `listCollection` throws, before anything is read; a batch that fails later throws StorageError.
 */
export async function openMemberBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number): Promise<MemberBatches> {
  let dir: Dir;
  try {
    dir = await opendir(dirHost, { bufferSize: Math.min(batchSize, 1024) });
  } catch (err) {
    throw await listingError(err, containment, path);
  }
  const addressable = nameFilter();
  let closed = false;
  const closeDir = async () => {
    if (closed) return;
    closed = true;
    await dir.close().catch(() => undefined);
  };
  const readBatch = async (): Promise<ResourceStat[] | null> => {
    if (closed) return null;
    const names: string[] = [];
    const take = (entry: Dirent | null): boolean => {
      if (entry === null) return false;
      if (addressable(entry.name)) names.push(entry.name);
      return true;
    };
    try {
      // Most reads are served from the handle's buffer: a promise each cost ~1,000 per 1,000
      // members. Blocking only when no write of ours could hold the directory's lock
      // (writesInFlight.ts), as one inline call for the batch (inlineCalls.ts).
      if (writesInFlight() === 0 && inlineAllowed()) {
        inline(() => {
          while (names.length < batchSize && take(dir.readSync()));
        });
      } else {
        while (names.length < batchSize && take(await dir.read()));
      }
    } catch (err) {
      await closeDir();
      throw storageErrorFromErrno(err, path);
    }
    if (names.length === 0) {
      await closeDir();
      return null;
    }
    return statMembers(containment, path, dirHost, names);
  };
  // The batch after the one just handed out is read and looked up meanwhile (on the member stat
  // thread, while the caller renders): one batch ahead, never more.
  let ahead: Promise<ResourceStat[] | null> | null = null;
  return {
    async next() {
      const batch = await (ahead ?? readBatch());
      ahead = null;
      if (batch !== null && !closed) {
        ahead = readBatch();
        ahead.catch(() => undefined); // its failure is thrown by the next call of next()
      }
      return batch;
    },
    async close() {
      const pending = ahead;
      ahead = null;
      await pending?.catch(() => undefined);
      await closeDir();
    },
  };
}

/** Why a collection could not be read: NotACollection for a file (NotFound when it vanished), else the errno's domain error. */
async function listingError(err: unknown, containment: Containment, path: DavPath): Promise<Error> {
  if (errnoOf(err) !== 'ENOTDIR') return storageErrorFromErrno(err, path);
  const found = await containment.resolveForRead(path);
  return found === null ? new NotFoundError(path, `${path}: not found`) : new NotACollectionError(path, `${path}: not a collection`);
}
