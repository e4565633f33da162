/**
 * Walks for the maintenance tasks: every file of the served tree (as the server sees it: hidden
 * `.keepdav-` names and unaddressable names left out, symlinks followed only inside the root).
 */
import type { ResourceStore, ResourceStat } from '../storage/resourceStore';
import type { WriteClaims } from '../state/stateStore';
import { OperationInProgressError } from '../concurrency/pathMutex';
import type { TaskContext } from './taskRunner';
import { ROOT, type DavPath } from '../paths/davPath';
import { NotFoundError, NotACollectionError } from '../storage/storageErrors';

/** The files under the root, depth first; collections that vanish meanwhile are skipped. */
export async function* filesOfTree(store: ResourceStore, at: DavPath = ROOT, seen = new Set<string>()): AsyncGenerator<ResourceStat> {
  let members: ResourceStat[];
  try {
    members = await store.list(at);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof NotACollectionError) return;
    throw err;
  }
  for (const member of members) {
    if (!member.isCollection) {
      yield member;
      continue;
    }
    // A symlinked collection (followed inside the root) is walked once, so a link to an ancestor cannot loop.
    const identity = `${member.dev}:${member.ino}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    yield* filesOfTree(store, member.path, seen);
  }
}

/**
 * Visits every file of the tree under its write claim (so an upload in progress is not taken for
 * a change made outside), with the file as it is now (skipped when it vanished or became a
 * collection). A file held by a running tree operation is counted busy and passed over. Returns
 * the paths walked and how many were busy.
 */
export async function eachFileClaimed(
  store: ResourceStore,
  writes: WriteClaims,
  ctx: TaskContext,
  visit: (now: ResourceStat) => void | Promise<void>,
): Promise<{ seen: Set<string>; busy: number }> {
  const seen = new Set<string>();
  let busy = 0;
  for await (const file of filesOfTree(store)) {
    seen.add(file.path);
    try {
      await writes.run([{ path: file.path, tree: false }], async () => {
        const now = await store.stat(file.path);
        if (now !== null && !now.isCollection) await visit(now);
      });
    } catch (err) {
      if (!(err instanceof OperationInProgressError)) throw err;
      busy += 1;
    }
    await ctx.step();
  }
  return { seen, busy };
}
