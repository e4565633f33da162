/**
 * Retention as storage operations (issue 8, "Seams first"): bytes pass between the served tree
 * and the kept bytes (retainedBytes.ts) by hard link or by one rename on the same filesystem,
 * never by copy unless the kept bytes lie on another disk. Symlinks are decided here: keeping a
 * version through a symlink keeps the real file's bytes, never a link to the link; moving a
 * symlink out only unlinks it (what it points to stays served).
 */
import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { baseName, ROOT, type DavPath } from '../paths/davPath';
import { fsyncDirectory } from './atomicWrite';
import { assertDavPath, childHostPath, type Containment } from './containment';
import type { RetainedBytes } from './retainedBytes';
import { removeHostEntry } from './removeTree';
import { AccessDeniedError, AlreadyExistsError, NotFoundError, storageErrorFromErrno } from './storageErrors';

export class KeptTransfers {
  constructor(
    private readonly containment: Containment,
    private readonly kept: RetainedBytes,
  ) {}

  /** ResourceStore.keepVersion: a hard link to the real file (a symlink's target, never the link). */
  async keepVersion(path: DavPath, key: string): Promise<void> {
    const found = await this.containment.resolveForRead(path);
    if (found === null || !found.stats.isFile()) throw new NotFoundError(path, `${path}: not found`);
    await this.kept.linkIn(found.host, key).catch((err: unknown) => { throw storageErrorFromErrno(err, path); });
  }

  /** ResourceStore.moveOutAsKept: one rename of the entry (a symlink is only unlinked: false). */
  async moveOutAsKept(path: DavPath, key: string): Promise<boolean> {
    assertDavPath(path);
    if (path === ROOT) throw new AccessDeniedError(path, '/: the root cannot be removed');
    const dirReal = await this.containment.parentForWrite(path, 'NotFound');
    const host = childHostPath(dirReal, baseName(path));
    const stats = await lstatExisting(host, path);
    try {
      if (stats.isSymbolicLink()) {
        const real = await realpath(host).catch(() => null);
        if (real !== null && !this.containment.isVisibleRealPath(real)) throw new AccessDeniedError(path, `${path}: symlink leads outside the root`);
        await removeHostEntry(host, path, false);
      } else if (stats.isFile() || stats.isDirectory()) {
        await this.kept.moveIn(host, key).catch((err: unknown) => { throw storageErrorFromErrno(err, path); });
      } else {
        throw new NotFoundError(path, `${path}: not found`);
      }
    } finally {
      this.containment.invalidate();
    }
    await fsyncDirectory(dirReal);
    return !stats.isSymbolicLink();
  }

  /** ResourceStore.putBack: one rename back to the absent `path`. */
  async putBack(path: DavPath, key: string): Promise<void> {
    const dirReal = await this.containment.parentForWrite(path);
    const target = await this.containment.inspectWriteTarget(path, dirReal);
    if (target.kind !== 'missing') throw new AlreadyExistsError(path, `${path}: already exists`);
    try {
      await this.kept.moveBack(key, target.host);
    } catch (err) {
      throw storageErrorFromErrno(err, path, 'create');
    } finally {
      this.containment.invalidate();
    }
    await fsyncDirectory(dirReal);
  }
}

async function lstatExisting(host: string, path: DavPath): Promise<Stats> {
  try {
    return await lstat(host);
  } catch (err) {
    throw storageErrorFromErrno(err, path);
  }
}
