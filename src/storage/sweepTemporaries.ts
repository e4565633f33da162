/**
 * Removes the temporary files and directories (`.keepdav-tmp-*`) that a crash left in the served
 * tree: an upload or a COPY interrupted by kill -9 or a power loss never renames its temporary
 * into place, and nothing else would ever delete it. Only temporaries untouched for `olderThanMs`
 * go, so an upload still in progress (its file is written continually) is never disturbed.
 */
import { opendir, lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RESERVED_PREFIX } from './containment';

const TEMP_PREFIX = `${RESERVED_PREFIX}tmp-`;

/** Walks `rootHost` (never following symlinks) and returns how many stale temporaries it removed. */
export async function sweepStaleTemporaries(rootHost: string, olderThanMs: number, nowMs: number = Date.now()): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      // Read incrementally: a directory of 100,000 files never sits in memory as one array.
      entries = await opendir(dir, { bufferSize: 256 });
    } catch {
      return; // vanished or unreadable: nothing to sweep there
    }
    for await (const entry of entries) {
      const host = join(dir, entry.name);
      if (entry.name.startsWith(TEMP_PREFIX)) {
        const stats = await lstat(host).catch(() => null);
        if (stats && nowMs - stats.mtimeMs > olderThanMs) {
          await rm(host, { recursive: true, force: true }).catch(() => undefined);
          removed++;
        }
      } else if (entry.isDirectory()) {
        await walk(host);
      }
    }
  };
  await walk(rootHost);
  return removed;
}
