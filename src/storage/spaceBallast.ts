/**
 * A file of BALLAST_BYTES kept in the state directory while there is room, given up when the disk
 * is full so that the writes which free space can be made at all. On a disk filled to the last
 * block (by uploads: retention keeps its --min-free reserve, uploads of new files do not), a DELETE
 * could not even journal its intent (SQLITE_FULL), nor a prune remove a row, and nothing freed
 * space but removing files by hand. Now a write refused for lack of space gives the ballast up and
 * is tried once more; retention then prunes the oldest versions until the reserve and the ballast
 * fit again (retention.ts), and the ballast is laid down anew.
 *
 * Whether it is there is asked of the disk each time, never remembered: the start-up gives it up
 * by its name too (stateOwnership.ts), and several instances may share the state directory.
 *
 * Usage: `await ballast.ensure(leaveFree)` at start and after pruning; `await ballast.release()`
 * when a freeing write met ENOSPC (true: space was given up, try again); `ballast.missingBytes()`
 * what pruning must free beyond the reserve.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { open, statfs, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const BALLAST_BYTES = 1024 * 1024;
/** Its name in the state directory. */
export const BALLAST_FILE = 'space-ballast';

export class SpaceBallast {
  constructor(readonly host: string, private readonly bytes = BALLAST_BYTES) {}

  /**
   * Lays the ballast down when it is missing and the disk keeps `leaveFree` bytes free beside it;
   * true when it is in place afterwards.
   */
  async ensure(leaveFree = 0): Promise<boolean> {
    if (existsSync(this.host)) return true;
    try {
      const space = await statfs(dirname(this.host));
      if (space.bavail * space.bsize < this.bytes + leaveFree) return false;
    } catch {
      return false;
    }
    let file;
    try {
      file = await open(this.host, 'wx');
    } catch {
      // Laid down meanwhile by another instance sharing the state directory (EEXIST), or no room.
      return existsSync(this.host);
    }
    try {
      // Written, not allocated sparse: its blocks must be real to be given back.
      await file.write(Buffer.alloc(this.bytes));
      await file.close();
      return true;
    } catch {
      await file.close().catch(() => undefined);
      await unlink(this.host).catch(() => undefined);
      return false;
    }
  }

  /** Gives the ballast up; true when it was there (space was freed). */
  async release(): Promise<boolean> {
    try {
      await unlink(this.host);
      return true;
    } catch {
      return false;
    }
  }

  /** The bytes pruning must free beyond the reserve for the ballast to be laid down again. */
  missingBytes(): number {
    return existsSync(this.host) ? 0 : this.bytes;
  }
}

/** Gives up the ballast of the state directory `stateDir`, synchronously (a start on a full disk); true when it was there. */
export function releaseBallastSync(stateDir: string): boolean {
  try {
    unlinkSync(join(stateDir, BALLAST_FILE));
    return true;
  } catch {
    return false;
  }
}
