/**
 * Restoring a retained version: its bytes are written back atomically (temp file and rename, as a
 * PUT is), and what they replace is itself retained, so a restore can be undone (semantics.md).
 */
import { createReadStream } from 'node:fs';
import type { FileStore } from '../storage/fileStore';
import type { VersionStore } from './versionStore';
import type { RetentionStore } from './retention';
import { replaceKeepingOld } from './replaceKeepingOld';
import type { DavPath } from '../paths/davPath';

export interface RestoreDependencies {
  store: FileStore;
  versions: VersionStore;
  retention: RetentionStore;
}

export class UnknownVersionError extends Error {
  constructor(readonly path: DavPath, readonly id: string) {
    super(`${path} has no retained version ${id}`);
    this.name = 'UnknownVersionError';
  }
}

export interface RestoreResult {
  created: boolean;
  etag: string;
  mtimeMs: number;
  /** The retained version that now holds what the restore replaced, if anything was there. */
  replacedVersionId: string | null;
}

/** Brings version `id` of `path` back; throws UnknownVersionError, or the store's errors (ParentMissing...). */
export async function restoreVersion(deps: RestoreDependencies, path: DavPath, id: string): Promise<RestoreResult> {
  const version = deps.retention.get(id);
  const source = deps.retention.contentPath(id);
  if (!version || version.path !== path || !source) throw new UnknownVersionError(path, id);

  const current = await deps.store.stat(path);
  const replaced = current && !current.isCollection
    ? { path, etag: deps.versions.etagOf(path, current), size: current.size, mtimeMs: current.mtimeMs }
    : null;
  const { result, retainedId } = await replaceKeepingOld(deps.retention, deps.store.hostPathOf(path), replaced, 'restore', () =>
    deps.store.writeAtomic(path, createReadStream(source), { expectedLength: version.size, mtimeMs: version.mtimeMs }),
  );
  const etag = deps.versions.recordNewContent(path, result.stat, result.digests);
  return { created: result.created, etag, mtimeMs: result.stat.mtimeMs, replacedVersionId: retainedId };
}
