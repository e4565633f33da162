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
import type { ListingCache, KeptBatch } from './listingCache';
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
  return withCareful(containment, path, dirHost, await findMembers(path, dirHost, names));
}

/** The stats of those of `names` that are plain files and directories, and the rest for the careful path. */
async function findMembers(path: DavPath, dirHost: string, names: readonly string[]): Promise<FoundMembers> {
  const packed = await statMembersOffThread(dirHost, names);
  if (packed !== null) return fromPacked(path, names, packed, null);
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
  return found;
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
  next(): Promise<readonly ResourceStat[] | null>;
  /** Releases the directory handle (also done at the end). */
  close(): Promise<void>;
}

/** A directory read a batch at a time, before the careful names are resolved (withCareful). */
interface FoundBatches {
  next(): Promise<FoundMembers | null>;
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
 * one batch ahead, never more. With a `cache` (listingCache.ts), a listing kept there is served
 * instead of read, and one read to its end is kept.
 */
export async function openMemberBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number, cache: ListingCache | null = null): Promise<MemberBatches> {
  const kept = cache?.lookup(path, dirHost) ?? null;
  if (kept !== null) return keptBatches(containment, path, dirHost, kept);
  // Watched before the first name is read: a change made while it is read is then seen, and the listing not kept.
  const fill = cache?.beginFill(path, dirHost) ?? null;
  let source: FoundBatches;
  try {
    source = await openFoundBatches(containment, path, dirHost, batchSize);
  } catch (err) {
    fill?.abandon();
    throw err;
  }
  let ahead: Promise<FoundMembers | null> | null = null;
  let ended = false;
  return {
    async next() {
      if (ended) return null;
      let found;
      try {
        found = await (ahead ?? source.next());
      } catch (err) {
        fill?.abandon();
        throw err;
      }
      ahead = null;
      if (found === null) {
        ended = true;
        fill?.finish();
        return null;
      }
      fill?.add(keptBatchOf(path, found));
      ahead = source.next();
      ahead.catch(() => undefined); // its failure is thrown by the next call of next()
      return withCareful(containment, path, dirHost, found);
    },
    async close() {
      ended = true;
      fill?.abandon();
      const pending = ahead;
      ahead = null;
      await pending?.catch(() => undefined);
      await source.close();
    },
  };
}

/** The directory opened off this thread when it can be, else on this one. */
async function openFoundBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number): Promise<FoundBatches> {
  const bufferSize = Math.min(batchSize, 1024);
  try {
    const listing = await openOffThread(dirHost, bufferSize);
    if (listing !== null) return offThreadBatches(path, listing, batchSize);
  } catch (err) {
    if (errnoOf(err) !== undefined) throw await listingError(err, containment, path);
  }
  return mainThreadBatches(containment, path, dirHost, batchSize, bufferSize);
}

/**
 * What a listing cache keeps of a batch read: its members in directory order, and where the
 * collections among them are, to be looked up again each time with the careful names.
 */
function keptBatchOf(path: DavPath, found: FoundMembers): KeptBatch {
  const nameAt = path === ROOT ? 1 : path.length + 1;
  const recheck: { at: number; name: string }[] = [];
  found.members.forEach((member, at) => {
    if (member.isCollection) recheck.push({ at, name: member.path.slice(nameAt) });
  });
  return { members: found.members.slice(), recheck, careful: found.careful };
}

/** A kept listing served: its files as kept, its collections and careful names looked up now (listingCache.ts). */
function keptBatches(containment: Containment, path: DavPath, dirHost: string, kept: readonly KeptBatch[]): MemberBatches {
  let next = 0;
  return {
    async next() {
      if (next >= kept.length) return null;
      const { members, recheck, careful } = kept[next++];
      if (recheck.length === 0 && careful.length === 0) return members;
      const fresh = new Map<string, ResourceStat>();
      if (recheck.length !== 0) for (const member of await statMembers(containment, path, dirHost, recheck.map((r) => r.name))) fresh.set(member.path, member);
      const batch: (ResourceStat | undefined)[] = members.slice();
      // A collection gone meanwhile is left out, as a listing read now would leave it out.
      for (const { at } of recheck) batch[at] = fresh.get(members[at].path);
      const listed = batch.filter((m): m is ResourceStat => m !== undefined);
      return careful.length === 0 ? listed : listed.concat(await withCareful(containment, path, dirHost, { members: [], careful: [...careful] }));
    },
    async close() {
      next = kept.length;
    },
  };
}

/** Batches read off this thread (the native helper or the listing thread): names and stats come back together. */
function offThreadBatches(path: DavPath, listing: OffThreadListing, batchSize: number): FoundBatches {
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
      return fromPacked(path, read.names, read.stats, addressable);
    },
    close: () => listing.close(),
  };
}

/** Batches read on this thread: the directory through a Dir, the stats as statMembers makes them. */
async function mainThreadBatches(containment: Containment, path: DavPath, dirHost: string, batchSize: number, bufferSize: number): Promise<FoundBatches> {
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
      return findMembers(path, dirHost, names);
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
