/**
 * Gives the free memory inside malloc's arenas back to the system: glibc's malloc_trim(0), from
 * native/mallocTrim.c (built by `npm install` with node-gyp into build/Release/).
 *
 * free() returns memory to the system only from the top of the main heap. A busy spell leaves
 * most of what it freed in the middle: request and listing buffers outside V8's heap, the helper
 * threads' allocations, SQLite's. That memory stays resident, counted in the server's RSS, until
 * malloc reuses it. malloc_trim walks every arena and hands each free page back (madvise).
 * Measured after a mix of listings, small and large uploads and GETs, once the quiet collection
 * had run: 76.6 MiB resident before the trim, 68.5 after (another run: 82.6 and 69.6). It runs
 * after that collection (quietCollection.ts), when no request is in flight, and after a helper
 * thread has ended (serviceExtras.ts), which may be while requests are served: a trim holds the
 * main thread 7-8 ms when it gives back 94 MiB, 0.1 ms when there is nothing to give.
 *
 * Without the built helper (no compiler at install time, another libc) this is null and keepdav
 * runs as before.
 */
import { loadNativeHelper, nativeHelperPath } from '../nativeHelpers';

interface MallocTrimBinding {
  /** True when memory was given back. */
  trim(): boolean;
}

/** Where `npm install` builds the helper (nativeHelpers.ts). */
export const MALLOC_TRIM_BINARY = nativeHelperPath('malloc_trim');

let loaded: MallocTrimBinding | null | undefined;

/** malloc_trim(0), or null when the helper was not built or cannot load here. */
export function mallocTrim(): (() => boolean) | null {
  if (loaded === undefined) loaded = loadNativeHelper<MallocTrimBinding>(MALLOC_TRIM_BINARY);
  const binding = loaded;
  return binding === null ? null : () => binding.trim();
}
