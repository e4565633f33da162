/**
 * Restoring a retained version: its bytes are written back atomically (temp file and rename, as a
 * PUT is), with the dead properties kept with it, and what they replace is itself retained, so a
 * restore can be undone (semantics.md).
 * A version is restored to the path it had (also when that file was deleted) or to another path.
 */
import type { ResourceStore } from '../storage/resourceStore';
import type { VersionStore } from './versionStore';
import type { RetentionStore } from './retention';
import { replaceKeepingOld } from './replaceKeepingOld';
import type { DavPath } from '../paths/davPath';
import type { PropertyRecords } from '../state/stateStore';
import { propertiesKept } from './keptProperties';

export interface RestoreDependencies {
  store: ResourceStore;
  versions: VersionStore;
  retention: RetentionStore;
  state: { properties: PropertyRecords };
}

export class UnknownVersionError extends Error {
  constructor(readonly path: DavPath, readonly id: string) {
    super(`${path} has no retained version ${id}`);
    this.name = 'UnknownVersionError';
  }
}

/** The version is listed but its retained bytes are gone from the state directory (damaged state). */
export class MissingVersionContentError extends Error {
  constructor(readonly path: DavPath, readonly id: string) {
    super(`the retained bytes of version ${id} of ${path} are missing from the state directory`);
    this.name = 'MissingVersionContentError';
  }
}

export interface RestoreResult {
  created: boolean;
  etag: string;
  mtimeMs: number;
  /** The retained version that now holds what the restore replaced, if anything was there. */
  replacedVersionId: string | null;
}

/**
 * Brings version `id` of `path` back, at `path` or at `to`; throws UnknownVersionError,
 * MissingVersionContentError (listed, but its bytes are gone: damaged state), or the store's
 * errors (ParentMissing, IsACollection...). When the new ETag cannot be recorded (a full state
 * disk) the write is undone.
 */
export async function restoreVersion(deps: RestoreDependencies, path: DavPath, id: string, to: DavPath = path): Promise<RestoreResult> {
  const version = await deps.retention.get(id);
  if (!version || version.path !== path) throw new UnknownVersionError(path, id);
  const source = await deps.retention.open(id);
  if (!source) throw new MissingVersionContentError(path, id);

  try {
    const current = await deps.store.stat(to);
    // What the restore replaces is kept with its dead properties, so restoring that brings them back.
    const replaced = current && !current.isCollection
      ? { path: to, etag: await deps.versions.etagOf(to, current), size: current.size, mtimeMs: current.mtimeMs, ino: current.ino, properties: JSON.stringify(await deps.state.properties.list(to)) }
      : null;
    const { result, recorded: etag, retainedId } = await replaceKeepingOld(
      deps.retention, deps.store, replaced, 'restore',
      () => deps.store.writeAtomic(to, source, { expectedLength: version.size, mtimeMs: version.mtimeMs }),
      (written) => deps.versions.recordNewContent(to, written.stat, written.digests),
    );
    // A version that kept dead properties (a DELETE's, a COPY/MOVE's or a restore's: "[]" when it
    // kept that there were none) brings exactly those, not the replaced file's with them laid over;
    // one an upload replaced kept none (an upload changes no property), and the file keeps its own.
    if (version.properties != null) {
      await deps.state.properties.forgetSubtree(to);
      const kept = propertiesKept(version.properties);
      if (kept.length > 0) await deps.state.properties.apply(to, kept.map((property) => ({ op: 'set', property })));
    }
    return { created: result.created, etag, mtimeMs: result.stat.mtimeMs, replacedVersionId: retainedId };
  } finally {
    source.destroy();
  }
}
