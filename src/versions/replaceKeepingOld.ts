/**
 * Replacing a file's bytes without losing the old ones (semantics.md, "Nothing is lost"): the
 * current bytes are hard-linked into retention as a pending version, the write runs, and the
 * version is committed when the write succeeded or discarded when it failed. PUT and restore
 * both replace files this way.
 */
import { rename, rm } from 'node:fs/promises';
import type { RetentionStore, RetainedFileFacts, RetentionReason } from './retention';

/**
 * Runs `write` keeping `replaced` (the file's current bytes at `hostPath`, or null when there is
 * none) as a retained version, then `record` (the metadata of the new content, e.g. its ETag).
 * Returns the write's result, what `record` returned and the retained version's id.
 *
 * Nothing is left half-done: whatever `write` throws is rethrown after the pending version is
 * discarded; when `record` or committing the version throws (a full state disk), the write is
 * undone first: a created file is removed, a replaced file's old bytes are put back from the
 * pending version.
 */
export async function replaceKeepingOld<T extends { created: boolean }, R = void>(
  retention: RetentionStore,
  hostPath: string,
  replaced: RetainedFileFacts | null,
  reason: RetentionReason,
  write: () => Promise<T>,
  record: (result: T) => R = () => undefined as R,
): Promise<{ result: T; recorded: R; retainedId: string | null }> {
  const pending = replaced ? await retention.retainFileByLink(hostPath, replaced, reason) : null;
  let result: T;
  try {
    result = await write();
  } catch (err) {
    if (pending) await retention.discard(pending.id);
    throw err;
  }
  let recorded: R;
  try {
    recorded = record(result);
    if (pending) await retention.commit(pending);
  } catch (err) {
    await undoWrite(retention, hostPath, result.created, pending?.id ?? null);
    throw err;
  }
  return { result, recorded, retainedId: pending?.id ?? null };
}

/** Puts the old state back after a write whose metadata could not be recorded. */
async function undoWrite(retention: RetentionStore, hostPath: string, created: boolean, pendingId: string | null): Promise<void> {
  const kept = pendingId === null ? undefined : retention.contentPath(pendingId);
  if (kept !== undefined) {
    await rename(kept, hostPath);
    // The row goes too; if the state disk refuses even that, start-up drops the pending row.
    await retention.discard(pendingId!).catch(() => undefined);
  } else if (created) {
    await rm(hostPath, { force: true });
  }
}
