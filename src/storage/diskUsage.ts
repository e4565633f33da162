/**
 * Quota figures for RFC 4331 (quota-available-bytes, quota-used-bytes): the space left comes
 * from statfs on every call; the bytes used under the root come from a walk of the tree, which
 * is costly, so its result is cached and concurrent callers share one walk.
 */
import type { Dirent } from 'node:fs';
import { lstat, open, readdir, statfs, unlink } from 'node:fs/promises';
import { ROOT } from '../paths/davPath';
import { childHostBytes, childHostPath, RESERVED_PREFIX } from './containment';
import { storageErrorFromErrno } from './storageErrors';

const BATCH = 32;

export interface Usage {
  /** Bytes an unprivileged writer may still use on the root's filesystem (statfs bavail * bsize). */
  availableBytes: number;
  /** Sum of the sizes of the regular files under the root (temp files included; links not followed). */
  usedBytes: number;
}

/** Sums the sizes of all regular files under `dir`; entries that vanish or cannot be read count 0. */
export async function bytesUnder(dir: Buffer): Promise<number> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return 0;
  }
  let total = 0;
  for (let i = 0; i < entries.length; i += BATCH) {
    const sizes = await Promise.all(
      entries.slice(i, i + BATCH).map(async (entry) => {
        const host = childHostBytes(dir, entry.name);
        if (entry.isDirectory()) return bytesUnder(host);
        if (entry.isSymbolicLink()) return 0;
        const stats = await lstat(host).catch(() => null);
        if (stats === null) return 0;
        if (stats.isDirectory()) return bytesUnder(host); // DT_UNKNOWN
        return stats.isFile() ? stats.size : 0;
      }),
    );
    for (const size of sizes) total += size;
  }
  return total;
}

/** Free (for an unprivileged writer) and total bytes of the disk holding `dir`. Throws the mapped storage error. */
export async function diskSpace(dir: string): Promise<{ free: number; total: number }> {
  try {
    const fs = await statfs(dir);
    return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  } catch (err) {
    throw storageErrorFromErrno(err, ROOT);
  }
}

/** Writes, syncs and removes one small reserved (invisible) file in `dir`; throws the errno error unchanged. */
export async function probeWrite(dir: string): Promise<void> {
  const file = childHostPath(dir, `${RESERVED_PREFIX}ready-probe-${process.pid}`);
  const fh = await open(file, 'w');
  try {
    await fh.write('ready\n');
    await fh.sync();
  } finally {
    await fh.close();
    await unlink(file).catch(() => undefined);
  }
}

export class UsageMeter {
  private cached: { usedBytes: number; expires: number } | null = null;
  private walking: Promise<number> | null = null;

  constructor(
    private readonly root: string,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The current figures. Throws AccessDeniedError (or the unchanged error) when statfs fails.
   */
  async usage(): Promise<Usage> {
    let fsStats;
    try {
      fsStats = await statfs(this.root);
    } catch (err) {
      throw storageErrorFromErrno(err, ROOT);
    }
    return { availableBytes: fsStats.bavail * fsStats.bsize, usedBytes: await this.usedBytes() };
  }

  private async usedBytes(): Promise<number> {
    if (this.cached !== null && this.cached.expires > this.now()) return this.cached.usedBytes;
    if (this.walking === null) {
      this.walking = bytesUnder(Buffer.from(this.root)).then(
        (usedBytes) => {
          this.cached = { usedBytes, expires: this.now() + this.cacheMs };
          this.walking = null;
          return usedBytes;
        },
        (err: unknown) => {
          this.walking = null;
          throw err;
        },
      );
    }
    return this.walking;
  }
}
