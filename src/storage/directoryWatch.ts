/**
 * Changes to watched directories, as inotify reports them (native/directoryWatch.c), read without
 * blocking whenever the caller asks: the listing cache (listingCache.ts) drains them before it
 * trusts a listing it kept. One inotify instance for the process, opened on first use; null where
 * the helper was not built or inotify is refused (the cache then keeps nothing).
 *
 * Each call of directoryWatch() gives a user of its own over that one instance: a drain reads
 * every change the kernel queued and hands each to every user watching that directory, so one
 * user's drain never takes a change from another (two listing caches in one process, as the
 * tests make, each saw only the changes the other had not drained first). A user that does not
 * drain for MAX_QUEUED changes is told that some were lost, as after the kernel's own overflow.
 * The kernel gives a directory watched twice one watch: it is removed once no user watches it.
 *
 *   const watch = directoryWatch();
 *   const wd = watch?.watch('/srv/dav/docs');        // null: not a local filesystem, or refused
 *   watch?.drain((wd, mask) => ..., () => ...);      // each change since the last drain; or "some were lost"
 */
import { loadNativeHelper, nativeHelperPath } from '../nativeHelpers';

/** native/directoryWatch.c's exports (negative numbers are -errno). */
interface DirectoryWatchBinding {
  open(): number;
  watch(fd: number, dir: string): number;
  unwatch(fd: number, wd: number): number;
  drain(fd: number): Int32Array | null;
}

/** Where `npm install` builds native/directoryWatch.c (nativeHelpers.ts). */
export const DIRECTORY_WATCH_BINARY = nativeHelperPath('directory_watch');

/** inotify's IN_IGNORED: the watch is gone (its directory was removed, or it was unwatched). */
export const WATCH_GONE = 0x8000;

export interface DirectoryWatch {
  /** Starts watching the directory `host` (the same number again for a directory already watched); null when it cannot be. */
  watch(host: string): number | null;
  unwatch(wd: number): void;
  /** Reports each queued change (`lost` once instead when the kernel's queue overflowed). */
  drain(changed: (wd: number, mask: number) => void, lost: () => void): void;
}

/** Changes queued for one user, at most; past that it is told some were lost. */
const MAX_QUEUED = 65_536;

/** One user's watches and the changes read for it but not yet drained by it. */
interface User {
  wds: Set<number>;
  /** Watch descriptor and mask of each change, in pairs. */
  queued: number[];
  lost: boolean;
}

interface SharedInstance {
  binding: DirectoryWatchBinding;
  fd: number;
  /** Held weakly: a user that is gone (its cache collected) is dropped at the next read. */
  users: Set<WeakRef<User>>;
}

let shared: SharedInstance | null | undefined;

/** A user of the process's directory watch, or null when there is none to have. */
export function directoryWatch(): DirectoryWatch | null {
  if (shared === undefined) shared = openSharedInstance();
  return shared === null ? null : userOf(shared);
}

function openSharedInstance(): SharedInstance | null {
  if (process.platform !== 'linux') return null;
  const binding = loadNativeHelper<DirectoryWatchBinding>(DIRECTORY_WATCH_BINARY);
  const fd = binding?.open() ?? -1;
  if (binding === null || fd < 0) return null;
  return { binding, fd, users: new Set() };
}

function userOf(instance: SharedInstance): DirectoryWatch {
  const user: User = { wds: new Set(), queued: [], lost: false };
  instance.users.add(new WeakRef(user));
  return {
    watch(host) {
      const wd = instance.binding.watch(instance.fd, host);
      if (wd < 0) return null;
      user.wds.add(wd);
      return wd;
    },
    unwatch(wd) {
      user.wds.delete(wd);
      if (!liveUsers(instance).some((other) => other.wds.has(wd))) instance.binding.unwatch(instance.fd, wd);
    },
    drain(changed, lost) {
      readQueued(instance);
      const { queued } = user;
      const wasLost = user.lost;
      user.queued = [];
      user.lost = false;
      if (wasLost) lost();
      for (let i = 0; i < queued.length; i += 2) {
        if (queued[i + 1] & WATCH_GONE) user.wds.delete(queued[i]);
        changed(queued[i], queued[i + 1]);
      }
    },
  };
}

/** The users still alive (the others are forgotten). */
function liveUsers(instance: SharedInstance): User[] {
  const live: User[] = [];
  for (const ref of instance.users) {
    const user = ref.deref();
    if (user === undefined) instance.users.delete(ref);
    else live.push(user);
  }
  return live;
}

/** Reads what the kernel queued, and queues each change for every user watching its directory. */
function readQueued(instance: SharedInstance): void {
  const events = instance.binding.drain(instance.fd);
  if (events === null) return;
  const users = liveUsers(instance);
  for (let i = 0; i < events.length; i += 2) {
    for (const user of users) {
      if (user.lost) continue;
      if (events[i] === -1) {
        user.lost = true;
        user.queued = [];
      } else if (user.wds.has(events[i])) {
        if (user.queued.length >= 2 * MAX_QUEUED) {
          user.lost = true;
          user.queued = [];
        } else user.queued.push(events[i], events[i + 1]);
      }
    }
  }
}
