/**
 * Where an upload's temporary file is created: a directory of keepdav's own (`uploads` in the
 * state directory, --state-dir), rather than beside its target. Creating a file holds its
 * directory's lock while the filesystem allocates an inode (slow on ext4 right after deletions:
 * it skips inodes freed in the last 30 s), and every look-up of a new name in that directory
 * waits for the lock; the main thread makes those look-ups itself (inlineCalls.ts), so concurrent
 * small PUTs into one folder stalled it behind one another's creates. With the temporaries
 * elsewhere, the target's directory is locked only by the renames. Measured with `wrk`, 16
 * connections of new 4 KiB files into one folder (4 interleaved rounds): 2,838-3,206 req/s against
 * 1,692-3,055, server CPU 427 µs a PUT against 629.
 *
 * The temporary is renamed into its target's directory, which needs one filesystem and one mount.
 * So the directory is used only when a first rename from it into the root works (a state
 * directory on another filesystem or mount, as a container's separate volumes, keeps every
 * temporary beside its target, as before); a directory under the root on another device (a mount,
 * a symbolic link written through) gets its temporaries beside the target, and so does a
 * set-group-ID directory (its new files take its group, as shared folders rely on); one whose rename
 * from here fails with EXDEV all the same (a bind mount of the same device; atomicWrite.ts then
 * copies the file over once) does too from then on. Should the directory go missing while the
 * server runs, the write goes beside its target and the directory is made again at the next;
 * one that cannot be made is tried again 10 s later. Temporaries a crash leaves in it are swept
 * at start, like those in the tree (sweepTemporaries.ts), and the directory is made and tried then
 * too, before the first request, so no upload ever waits for (or sits beside) the trial file.
 */
import { lstat, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { childHostPath } from './containment';
import { tempName } from './atomicWrite';
import { inline, inlineAllowed } from './inlineCalls';

/** Directories remembered as needing their temporaries beside the target (EXDEV); the oldest go first past this. */
const MAX_BESIDE = 1_000;
const SET_GROUP_ID = 0o2000;
/** After the directory could not be made, writes go beside their targets for this long before it is tried again. */
const RETRY_MS = 10_000;

interface Usable {
  host: string;
  dev: number;
}

export class UploadsDirectory {
  private usable: Promise<Usable | null> | null = null;
  private retryAt = 0;
  private readonly beside = new Set<string>();

  /** `host`: the directory (made when first needed); `rootHost`: the real path of the served root. */
  constructor(readonly host: string, private readonly rootHost: string) {}

  /** The directory to create the temporary of a write into `dirHost` in: the uploads directory when it can be renamed from there, else `dirHost`. */
  async tempDirFor(dirHost: string): Promise<string> {
    if (this.usable === null && Date.now() < this.retryAt) return dirHost;
    const uploads = await (this.usable ??= this.prepare());
    if (uploads === null) {
      this.usable = null; // tried again RETRY_MS from now
      this.retryAt = Date.now() + RETRY_MS;
      return dirHost;
    }
    if (this.beside.has(dirHost)) return dirHost;
    try {
      const dir = inlineAllowed() ? inline(() => statSync(dirHost)) : await stat(dirHost);
      // A set-group-ID directory gives what is created in it its group: such a file is created there.
      return dir.dev === uploads.dev && (dir.mode & SET_GROUP_ID) === 0 ? uploads.host : dirHost;
    } catch {
      return dirHost; // the write itself reports what is wrong with its directory
    }
  }

  /** Makes and tries the directory now (at start), as the first write would; whether it is usable is remembered the same way. */
  async ready(): Promise<void> {
    await this.tempDirFor(this.rootHost);
  }

  /** The uploads directory was found missing (a create there failed with ENOENT): it is made again for the next write. */
  lost(): void {
    this.usable = null;
  }

  /** A rename from the uploads directory into `dirHost` failed with EXDEV: its temporaries go beside their targets from now on. */
  renameRefused(dirHost: string): void {
    if (this.beside.size >= MAX_BESIDE) this.beside.delete(this.beside.values().next().value as string);
    this.beside.add(dirHost);
  }

  /** The directory, made if missing, when a file created in it can be renamed into the root; else null. */
  private async prepare(): Promise<Usable | null> {
    try {
      await mkdir(this.host, { recursive: true, mode: 0o700 });
      const stats = await lstat(this.host); // a real directory, never a symbolic link to elsewhere
      if (!stats.isDirectory() || stats.dev !== (await stat(this.rootHost)).dev) return null;
      // One trial rename: another mount of the same device refuses it (EXDEV).
      const trial = childHostPath(this.host, tempName());
      const landed = childHostPath(this.rootHost, tempName());
      await (await open(trial, 'wx', 0o600)).close();
      try {
        await rename(trial, landed);
      } catch (err) {
        await unlink(trial).catch(() => undefined);
        throw err;
      }
      await unlink(landed);
      return { host: this.host, dev: stats.dev };
    } catch {
      return null;
    }
  }
}
