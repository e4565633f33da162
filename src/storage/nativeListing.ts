/**
 * Reading a collection's members on libuv's thread pool, a batch at a time, through
 * native/memberListing.c: the directory read and each member's statx run on a pool thread, and
 * the main thread only turns the batch into strings and one Float64Array (MEMBER_FIELDS numbers a
 * name, as listingThread.ts describes them).
 *
 * Why not the listing thread (listingThread.ts) when this helper is built: that thread is a second
 * V8 isolate, 15-18 MiB of a busy listing's peak memory (VmHWM under PROPFIND Depth 1 over 1,000
 * files, 16 connections), and every batch crosses it twice as a structured clone. Here the pool
 * threads run C only, several listings read at once on both cores, and nothing is cloned. The
 * thread stays for an install without a compiler, where this helper is missing.
 *
 *   if (nativeListingAvailable()) {
 *     const listing = await openNativeListing(dirHost);   // rejects with opendir's errno code
 *     const batch = await listing.read(256);              // null at the end
 *     await listing.close();
 *   }
 */
import { errnoError, loadNativeHelper, nativeHelperPath } from '../nativeHelpers';
import { ConcurrencyLimit } from '../concurrency/concurrencyLimit';
import type { OffThreadListing } from './listingThread';

/** native/memberListing.c's exports. */
interface MemberListingBinding {
  open(dir: string): Promise<object>;
  read(listing: object, max: number): Promise<{ names: string[]; stats: Float64Array }>;
  close(listing: object): void;
  stat(dir: string, names: readonly string[]): Promise<Float64Array>;
}

/** The most names the helper reads at once. */
const MAX_BATCH = 4096;

/** Where `npm install` builds native/memberListing.c (nativeHelpers.ts). */
export const MEMBER_LISTING_BINARY = nativeHelperPath('member_listing');
const binding = loadNativeHelper<MemberListingBinding>(MEMBER_LISTING_BINARY);
/**
 * Directory opens, reads and member stats on the pool at once, at most. The pool also does every
 * request's file reads and writes (UV_THREADPOOL_SIZE, 32 in bin/keepdav.js): listings on a slow
 * filesystem must not hold all of its threads, as the listing thread, one thread, never could.
 * Four keep both cores busy here: two live servers, 16 connections listing 1,000 files, 6
 * interleaved rounds of 5 s: medians of 492 listings/s against 508 without a limit (3 % fewer,
 * inside the rounds' spread of 416-539).
 */
export const POOL_DIRECTORY_WORK = new ConcurrencyLimit(4);

/** Whether listings use the helper (tests turn it off to cover the listing thread and this thread). */
let enabled = binding !== null;

/** True when the helper is built and in use: listings are read on the pool. */
export function nativeListingAvailable(): boolean {
  return enabled;
}

/** The helper's rejection ({ errno }) as the errno-coded Error fs would give (code 'ENOENT', ...). */
function asErrnoError(reason: unknown, call: string, dir: string): Error {
  const errno = (reason as { errno?: unknown } | null)?.errno;
  if (typeof errno !== 'number') return reason instanceof Error ? reason : new Error(String(reason));
  return errnoError(errno, call, dir);
}

/** Opens the host directory `dir` on the pool. Rejects with opendir's errno-coded error (ENOENT, ENOTDIR, EACCES...). */
export async function openNativeListing(dir: string): Promise<OffThreadListing> {
  const native = binding!;
  const listing = await POOL_DIRECTORY_WORK.run(() => native.open(dir)).catch((reason: unknown) => {
    throw asErrnoError(reason, 'opendir', dir);
  });
  let ended = false;
  return {
    async read(max) {
      if (ended) return null;
      const batch = await POOL_DIRECTORY_WORK.run(() => native.read(listing, Math.min(max, MAX_BATCH))).catch((reason: unknown) => {
        throw asErrnoError(reason, 'readdir', dir);
      });
      return batch.names.length === 0 ? null : batch;
    },
    async close() {
      if (ended) return;
      ended = true;
      // At once, or after a read under way; a listing dropped without close() is closed when collected.
      native.close(listing);
    },
  };
}

/** The stats of `names` in the host directory `dir`, MEMBER_FIELDS numbers per name, in order; rejects with open's errno-coded error. */
export async function statMembersNatively(dir: string, names: readonly string[]): Promise<Float64Array> {
  return POOL_DIRECTORY_WORK.run(() => binding!.stat(dir, names)).catch((reason: unknown) => {
    throw asErrnoError(reason, 'open', dir);
  });
}

/** For tests: whether listings use the helper (when built), so the listing thread and this thread stay covered too. */
export function useNativeListingForTests(use: boolean): void {
  enabled = use && binding !== null;
}
