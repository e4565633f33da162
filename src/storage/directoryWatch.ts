/**
 * Changes to watched directories, as inotify reports them (native/directoryWatch.c), read without
 * blocking whenever the caller asks: the listing cache (listingCache.ts) drains them before it
 * trusts a listing it kept. One inotify instance for the process, opened on first use; null where
 * the helper was not built or inotify is refused (the cache then keeps nothing).
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

let opened: DirectoryWatch | null | undefined;

/** The process's directory watch, or null when there is none to have. */
export function directoryWatch(): DirectoryWatch | null {
  if (opened === undefined) opened = openDirectoryWatch();
  return opened;
}

function openDirectoryWatch(): DirectoryWatch | null {
  if (process.platform !== 'linux') return null;
  const binding = loadNativeHelper<DirectoryWatchBinding>(DIRECTORY_WATCH_BINARY);
  const fd = binding?.open() ?? -1;
  if (binding === null || fd < 0) return null;
  return {
    watch(host) {
      const wd = binding.watch(fd, host);
      return wd < 0 ? null : wd;
    },
    unwatch(wd) {
      binding.unwatch(fd, wd);
    },
    drain(changed, lost) {
      const events = binding.drain(fd);
      if (events === null) return;
      for (let i = 0; i < events.length; i += 2) {
        if (events[i] === -1) lost();
        else changed(events[i], events[i + 1]);
      }
    },
  };
}
