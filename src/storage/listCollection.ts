/**
 * The members of one collection as a client may see them: reserved names (temp files, state),
 * names no URL can reach (not UTF-8, holding "\"), special files, and symlinks that dangle or
 * lead outside the root are all left out.
 */
import type { Dirent } from 'node:fs';
import { lstatSync } from 'node:fs';
import { readdir, opendir } from 'node:fs/promises';
import type { Dir } from 'node:fs';
import { joinPath, ROOT, type DavPath } from '../paths/davPath';
import { childHostPath, isAddressableText, type Containment } from './containment';
import { toResourceStat, type ResourceStat } from './resourceStat';
import { writesInFlight } from './writesInFlight';
import { inline, inlineAllowed } from './inlineCalls';
import { listingThreadReady, MEMBER_FIELDS, MemberKind, openListingOnThread, statMembersOnThread, type OffThreadListing } from './listingThread';
import { nativeListingAvailable, openNativeListing, statMembersNatively } from './nativeListing';
import { errnoOf, NotACollectionError, NotFoundError, StorageError, storageErrorFromErrno } from './storageErrors';

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

/** Batches of at least this many names are looked up off this thread; smaller ones inline (a round trip would cost more). */
const OFF_THREAD_MIN_MEMBERS = 32;

/**
 * The packed stats of `names` (listingThread.ts) looked up off this thread: on libuv's pool by the
 * native helper when built (nativeListing.ts), else on the listing thread when it is up; null when
 * neither is at hand or the lookup failed (the caller then looks them up here).
 */
async function statMembersOffThread(dirHost: string, names: readonly string[]): Promise<Float64Array | null> {
  if (names.length < OFF_THREAD_MIN_MEMBERS) return null;
  if (nativeListingAvailable()) return statMembersNatively(dirHost, names).catch(() => null);
  return listingThreadReady() ? statMembersOnThread(dirHost, names).catch(() => null) : null;
}

/** The members named `names` of the collection `path` (host `dirHost`); vanished or hidden ones are left out. */
async function statMembers(containment: Containment, path: DavPath, dirHost: string, names: readonly string[]): Promise<ResourceStat[]> {
  const packed = await statMembersOffThread(dirHost, names);
  if (packed !== null) return withCareful(containment, path, dirHost, fromPacked(path, names, packed, null));
  const found: FoundMembers = { members: [], careful: [] };
  if (inlineAllowed()) {
    // One inline call for the whole batch (inlineCalls.ts): timing each lstat cost more than it.
    inline(() => {
      for (const name of names) {
        const stats = plainMemberStats(childHostPath(dirHost, name));
        if (stats) found.members.push(toResourceStat(joinPath(path, name), stats));
        else found.careful.push(name);
      }
    });
  } else found.careful.push(...names);
  return withCareful(containment, path, dirHost, found);
}

/** Members whose stats are known, and names that need the careful path (symlinks, special files, errors). */
interface FoundMembers {
  members: ResourceStat[];
  careful: string[];
}

/**
 * The members of `names` from the thread's packed stats (listingThread.ts), those `keep` accepts
 * (all, when null). Each path is the collection's with "/" (made once) and the name: names a
 * directory read gives are never empty, "." or "..", nor hold "/" or NUL, and `keep` (nameFilter)
 * or the caller has left out those no segment may be (isAddressableText), so joinPath's checks
 * would find nothing; they and its second concatenation were a fifth of what a listing allocated.
 */
function fromPacked(path: DavPath, names: readonly string[], packed: Float64Array, keep: ((name: string) => boolean) | null): FoundMembers {
  const found: FoundMembers = { members: [], careful: [] };
  const prefix = path === ROOT ? '/' : `${path}/`;
  for (let i = 0, at = 0; i < names.length; i++, at += MEMBER_FIELDS) {
    const name = names[i];
    if (keep !== null && !keep(name)) continue;
    const kind = packed[at];
    if (kind === MemberKind.Careful) {
      found.careful.push(name);
      continue;
    }
    const isCollection = kind === MemberKind.Directory;
    found.members.push({
      path: prefix + name,
      isCollection,
      size: isCollection ? 0 : packed[at + 1],
      mtimeMs: packed[at + 2],
      ctimeMs: packed[at + 3],
      birthtimeMs: packed[at + 4],
      ino: packed[at + 5],
      dev: packed[at + 6],
    });
  }
  return found;
}

/** `found`'s members, then those of its careful names that resolve inside the root (containment.ts), BATCH at a time. */
async function withCareful(containment: Containment, path: DavPath, dirHost: string, found: FoundMembers): Promise<ResourceStat[]> {
  const { members, careful } = found;
  for (let i = 0; i < careful.length; i += BATCH) {
    const resolved = await Promise.all(
      careful.slice(i, i + BATCH).map(async (name) => {
        const entry = await containment.resolveEntry(childHostPath(dirHost, name), joinPath(path, name));
        return entry === null ? null : toResourceStat(joinPath(path, name), entry.stats);
      }),
    );
    for (const member of resolved) if (member !== null) members.push(member);
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
 * The host directory `dirHost` opened off this thread: on libuv's pool by the native helper when
 * built (nativeListing.ts), else on the listing thread when it is up (listingThread.ts); null when
 * neither is at hand. Rejects with opendir's errno-coded error, or a plain Error when the thread failed.
 */
async function openOffThread(dirHost: string, bufferSize: number): Promise<OffThreadListing | null> {
  if (nativeListingAvailable()) return openNativeListing(dirHost);
  return listingThreadReady() ? openListingOnThread(dirHost, bufferSize) : null;
}

/**
 * Opens the collection `path` for reading in batches of `batchSize` names: the directory is read
 * incrementally (opendir), so memory stays bounded however large it is, off this thread
 * (openOffThread), or on this one while the listing thread is starting (it stops once idle) or
 * when it cannot start. Opening throws what
 * `listCollection` throws, before anything is read; a batch that fails later throws StorageError.
 * The batch after the one just handed out is read meanwhile (while the caller renders this one):
 * one batch ahead, never more.
 */
export async function openMemberBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number): Promise<MemberBatches> {
  const bufferSize = Math.min(batchSize, 1024);
  let source: MemberBatches | null = null;
  try {
    const listing = await openOffThread(dirHost, bufferSize);
    if (listing !== null) source = offThreadBatches(containment, path, dirHost, listing, batchSize);
  } catch (err) {
    if (errnoOf(err) !== undefined) throw await listingError(err, containment, path);
  }
  source ??= await mainThreadBatches(containment, path, dirHost, batchSize, bufferSize);
  let ahead: Promise<ResourceStat[] | null> | null = null;
  let ended = false;
  return {
    async next() {
      if (ended) return null;
      const batch = await (ahead ?? source.next());
      ahead = null;
      if (batch === null) ended = true;
      else {
        ahead = source.next();
        ahead.catch(() => undefined); // its failure is thrown by the next call of next()
      }
      return batch;
    },
    async close() {
      ended = true;
      const pending = ahead;
      ahead = null;
      await pending?.catch(() => undefined);
      await source.close();
    },
  };
}

/** Batches read off this thread (the native helper or the listing thread): names and stats come back together. */
function offThreadBatches(containment: Containment, path: DavPath, dirHost: string, listing: OffThreadListing, batchSize: number): MemberBatches {
  const addressable = nameFilter();
  return {
    async next() {
      let read;
      try {
        read = await listing.read(batchSize);
      } catch (err) {
        await listing.close();
        const mapped = storageErrorFromErrno(err, path);
        throw mapped instanceof StorageError ? mapped : new StorageError(path, `${path}: the listing was interrupted (${mapped.message})`, { cause: err });
      }
      if (read === null) {
        await listing.close();
        return null;
      }
      return withCareful(containment, path, dirHost, fromPacked(path, read.names, read.stats, addressable));
    },
    close: () => listing.close(),
  };
}

/** Batches read on this thread: the directory through a Dir, the stats as statMembers makes them. */
async function mainThreadBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number, bufferSize: number): Promise<MemberBatches> {
  let dir: Dir;
  try {
    dir = await opendir(dirHost, { bufferSize });
  } catch (err) {
    throw await listingError(err, containment, path);
  }
  const addressable = nameFilter();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await dir.close().catch(() => undefined);
  };
  return {
    async next() {
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
        await close();
        throw storageErrorFromErrno(err, path);
      }
      if (names.length === 0) {
        await close();
        return null;
      }
      return statMembers(containment, path, dirHost, names);
    },
    close,
  };
}

/** Why a collection could not be read: NotACollection for a file (NotFound when it vanished), else the errno's domain error. */
async function listingError(err: unknown, containment: Containment, path: DavPath): Promise<Error> {
  if (errnoOf(err) !== 'ENOTDIR') return storageErrorFromErrno(err, path);
  const found = await containment.resolveForRead(path);
  return found === null ? new NotFoundError(path, `${path}: not found`) : new NotACollectionError(path, `${path}: not a collection`);
}
