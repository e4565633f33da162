/**
 * The trash of a collection: every path at or below it that has retained versions and no longer
 * exists (a deleted file, also one inside a deleted collection), with its newest version (the
 * bytes the DELETE removed) first. Newest deletion first, then bytewise by path, a page at a
 * time: a long history (200,000 retained versions) made one answer of 9.7 MB that held the
 * server for over a second and 280 MB of memory, so a page holds `limit` entries and tells where
 * the next one starts.
 */
import type { RetentionStore, RetainedVersion } from './retention';
import type { PathNewest } from '../state/stateStore';
import { parentOf, BadPathError, type DavPath } from '../paths/davPath';

/**
 * listTrash's `exists` over a store: whether a path is served now. A deleted file whose name no
 * URL can address (a backslash, kept with its folder) is not: it is listed as deleted.
 */
export function servedIn(store: { stat(path: DavPath): Promise<unknown> }): (path: DavPath) => Promise<boolean> {
  return async (path) => {
    try {
      return (await store.stat(path)) !== null;
    } catch (err) {
      if (err instanceof BadPathError) return false;
      throw err;
    }
  };
}

export interface TrashEntry {
  path: DavPath;
  /** The newest retained version: what was there when it went. */
  newest: RetainedVersion;
  /** All retained version ids of the path, newest first. */
  versionIds: string[];
}

export interface TrashPage {
  entries: TrashEntry[];
  /** Where the next page starts (the last entry's path and time), when there are more. */
  next?: PathNewest;
}

/** Paths with versions read from the state at once, while looking for the deleted ones (each read is one pass over the subtree's versions). */
const MIN_CANDIDATES_PER_READ = 256;

/**
 * Up to `limit` deleted paths at or below `collection`, after `after`. `exists` tells whether a
 * path is served now (a file or a collection); paths `mayList` says no to are left out.
 */
export async function listTrash(
  retention: RetentionStore,
  collection: DavPath,
  exists: (path: DavPath) => Promise<boolean>,
  limit: number,
  after?: PathNewest,
  mayList: (path: DavPath) => boolean = () => true,
): Promise<TrashPage> {
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
  const deleted: PathNewest[] = [];
  const perRead = Math.max(MIN_CANDIDATES_PER_READ, limit + 1);
  let cursor = after;
  // One more than asked, to know whether another page follows.
  while (deleted.length <= limit) {
    const candidates = await retention.newestUnder(collection, perRead, cursor);
    for (const candidate of candidates) {
      if (deleted.length > limit) break;
      if (mayList(candidate.path) && !(await served(candidate.path))) deleted.push(candidate);
    }
    if (candidates.length < perRead) break;
    cursor = candidates[candidates.length - 1];
  }
  const entries: TrashEntry[] = [];
  for (const { path } of deleted.slice(0, limit)) {
    const versions = await retention.list(path);
    if (versions.length > 0) entries.push({ path, newest: versions[0], versionIds: versions.map((v) => v.id) });
  }
  return deleted.length > limit ? { entries, next: deleted[limit - 1] } : { entries };
}

/** Every page of listTrash, for the command line. */
export async function* allTrash(retention: RetentionStore, collection: DavPath, exists: (path: DavPath) => Promise<boolean>): AsyncGenerator<TrashEntry> {
  let after: PathNewest | undefined;
  do {
    const page = await listTrash(retention, collection, exists, 1000, after);
    yield* page.entries;
    after = page.next;
  } while (after);
}
