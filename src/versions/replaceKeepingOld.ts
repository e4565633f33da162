/**
 * Replacing a file's bytes without losing the old ones (semantics.md, "Nothing is lost"), as a
 * journaled step: (1) the pending version row, (2) the current bytes hard-linked into retention
 * (the real file, through a symlink), (3) the write (a rename over the target), (4) one commit.
 * A crash anywhere is settled at start-up by RetentionStore.recoverPending. PUT and restore both
 * replace files this way.
 */
import type { RetentionStore, RetainedFileFacts, RetentionReason, PendingVersion } from './retention';
import type { ResourceStat } from '../storage/resourceStat';
import type { ResourceStore } from '../storage/resourceStore';
import { crashPoint } from '../faults/crashPoint';

/**
 * Runs `write` keeping `replaced` (the file's current bytes, or null when there is none) as a
 * retained version, then `record` (the metadata of the new content, e.g. its ETag). Returns the
 * write's result, what `record` returned and the retained version's id.
 *
 * Nothing is left half-done: whatever `write` throws is rethrown after the pending version is
 * discarded; when `record` or committing the version throws (a full state disk), the write is
 * undone first: a created file is removed, a replaced file's old bytes are put back from the
 * pending version.
 */
export async function replaceKeepingOld<T extends { created: boolean; stat: ResourceStat }, R = void>(
  retention: RetentionStore,
  store: ResourceStore,
  replaced: RetainedFileFacts | null,
  reason: RetentionReason,
  write: () => Promise<T>,
  record: (result: T) => R | Promise<R> = () => undefined as R,
): Promise<{ result: T; recorded: R; retainedId: string | null }> {
  const pending = replaced ? await retention.beginKeep(replaced, reason) : null;
  crashPoint('overwrite:intent');
  let result: T;
  try {
    if (pending) await store.keepVersion(pending.path, pending.key);
    crashPoint('overwrite:kept');
    result = await write();
  } catch (err) {
    if (pending) await retention.discard(pending.id);
    throw err;
  }
  crashPoint('overwrite:written');
  let recorded: R;
  try {
    recorded = await record(result);
    if (pending) await retention.commit(pending);
  } catch (err) {
    await undoWrite(retention, store, result, pending);
    throw err;
  }
  if (pending) {
    crashPoint('overwrite:committed');
    await retention.prune([pending.path]);
  }
  return { result, recorded, retainedId: pending?.id ?? null };
}

/** Puts the old state back after a write whose metadata could not be recorded. */
async function undoWrite(retention: RetentionStore, store: ResourceStore, written: { created: boolean; stat: ResourceStat }, pending: PendingVersion | null): Promise<void> {
  if (pending) {
    await store.remove(written.stat.path);
    await store.putBack(written.stat.path, pending.key);
    // The row goes too; if the state disk refuses even that, start-up settles the pending row.
    await retention.forgetPending(pending.id);
  } else if (written.created) {
    await store.remove(written.stat.path);
  }
}
