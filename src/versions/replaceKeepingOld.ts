/**
 * Replacing a file's bytes without losing the old ones (semantics.md, "Nothing is lost"), as a
 * journaled step: (1) the pending version row, (2) the current bytes hard-linked into retention
 * (the real file, through a symlink), (3) the write (a rename over the target), (4) one commit.
 * A crash anywhere is settled at start-up by RetentionStore.recoverPending. PUT and restore both
 * replace files this way.
 */
import type { RetentionStore, RetainedFileFacts, RetentionReason } from './retention';
import type { FileStore } from '../storage/fileStore';
import { crashPoint } from '../faults/crashPoint';

/**
 * Runs `write` keeping `replaced` (the file's current bytes, or null when there is none) as a
 * retained version. Returns the write's result and the retained version's id. Whatever `write`
 * throws is rethrown after the pending version is discarded.
 */
export async function replaceKeepingOld<T>(
  retention: RetentionStore,
  store: FileStore,
  replaced: RetainedFileFacts | null,
  reason: RetentionReason,
  write: () => Promise<T>,
): Promise<{ result: T; retainedId: string | null }> {
  const pending = replaced ? retention.beginKeep(replaced, reason) : null;
  crashPoint('overwrite:intent');
  let result: T;
  try {
    if (pending) await store.keepFile(pending.path, retention.bytes, pending.key);
    crashPoint('overwrite:kept');
    result = await write();
  } catch (err) {
    if (pending) await retention.discard(pending.id);
    throw err;
  }
  crashPoint('overwrite:written');
  if (pending) {
    retention.commit(pending);
    crashPoint('overwrite:committed');
    await retention.prune([pending.path]);
  }
  return { result, retainedId: pending?.id ?? null };
}
