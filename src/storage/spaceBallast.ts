/**
 * A file of BALLAST_BYTES kept in the state directory while there is room, given up when the disk
 * is full so that the writes which free space can be made at all. On a disk filled to the last
 * block (by uploads: retention keeps its --min-free reserve, uploads of new files do not), a DELETE
 * could not even journal its intent (SQLITE_FULL), nor a prune remove a row, and nothing freed
 * space but removing files by hand. Now a write refused for lack of space gives the ballast up and
 * is tried once more; retention then prunes the oldest versions until the reserve and the ballast
 * fit again (retention.ts), and the ballast is laid down anew.
 *
 * Usage: `await ballast.ensure()` at start and after pruning; `await ballast.release()` when a
 * freeing write met ENOSPC (true: space was given up, try again); `ballast.missingBytes()` what
 * pruning must free beyond the reserve.
 */
import { open, unlink } from 'node:fs/promises';
import { errnoOf } from './storageErrors';

export const BALLAST_BYTES = 1024 * 1024;
/** Its name in the state directory. */
export const BALLAST_FILE = 'space-ballast';

export class SpaceBallast {
  /** Whether the file is in place, as far as this process knows (null: not looked yet). */
  private present: boolean | null = null;

  constructor(readonly host: string, private readonly bytes = BALLAST_BYTES) {}

  /** Lays the ballast down when it is missing and fits; true when it is in place afterwards. */
  async ensure(): Promise<boolean> {
    if (this.present === true) return true;
    let file;
    try {
      file = await open(this.host, 'wx');
    } catch (err) {
      // Another instance sharing the state directory, or an earlier run, laid it down already.
      if (errnoOf(err) === 'EEXIST') return (this.present = true);
      return (this.present = false);
    }
    try {
      // Written, not allocated sparse: its blocks must be real to be given back.
      await file.write(Buffer.alloc(this.bytes));
      await file.close();
      return (this.present = true);
    } catch {
      await file.close().catch(() => undefined);
      await unlink(this.host).catch(() => undefined);
      return (this.present = false);
    }
  }

  /** Gives the ballast up; true when it was there (space was freed). */
  async release(): Promise<boolean> {
    try {
      await unlink(this.host);
      this.present = false;
      return true;
    } catch {
      this.present = false;
      return false;
    }
  }

  /** The bytes pruning must free beyond the reserve for the ballast to be laid down again. */
  missingBytes(): number {
    return this.present === false ? this.bytes : 0;
  }
}
