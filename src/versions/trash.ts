/**
 * The trash of a collection: every path at or below it that has retained versions and no longer
 * exists (a deleted file, also one inside a deleted collection), with its newest version (the
 * bytes the DELETE removed) first. Newest deletion first.
 */
import type { RetentionStore, RetainedVersion } from './retention';
import { parentOf, type DavPath } from '../paths/davPath';

export interface TrashEntry {
  path: DavPath;
  /** The newest retained version: what was there when it went. */
  newest: RetainedVersion;
  /** All retained version ids of the path, newest first. */
  versionIds: string[];
}

/** `exists` tells whether a path is served now (a file or a collection). */
export async function listTrash(retention: RetentionStore, collection: DavPath, exists: (path: DavPath) => Promise<boolean>): Promise<TrashEntry[]> {
  const known = new Map<DavPath, boolean>();
  const served = async (path: DavPath): Promise<boolean> => {
    const cached = known.get(path);
    if (cached !== undefined) return cached;
    const parent = parentOf(path);
    // Below a missing collection nothing exists: one look-up per directory, not per deleted file.
    const answer = (parent === null || (await served(parent))) && (await exists(path));
    known.set(path, answer);
    return answer;
  };
  const byPath = new Map<DavPath, RetainedVersion[]>();
  for (const v of await retention.listUnder(collection)) {
    const list = byPath.get(v.path);
    if (list) list.push(v);
    else byPath.set(v.path, [v]);
  }
  const entries: TrashEntry[] = [];
  for (const [path, versions] of byPath) {
    if (await served(path)) continue;
    entries.push({ path, newest: versions[0], versionIds: versions.map((v) => v.id) });
  }
  return entries.sort((a, b) => b.newest.retainedAtMs - a.newest.retainedAtMs || (a.path < b.path ? -1 : 1));
}
