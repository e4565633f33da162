/**
 * Replacing a file's bytes without losing the old ones (semantics.md, "Nothing is lost"): the
 * current bytes are hard-linked into retention as a pending version, the write runs, and the
 * version is committed when the write succeeded or discarded when it failed. PUT and restore
 * both replace files this way.
 */
import type { RetentionStore, RetainedFileFacts, RetentionReason } from './retention';

/**
 * Runs `write` keeping `replaced` (the file's current bytes at `hostPath`, or null when there is
 * none) as a retained version. Returns the write's result and the retained version's id.
 * Whatever `write` throws is rethrown after the pending version is discarded.
 */
export async function replaceKeepingOld<T>(
  retention: RetentionStore,
  hostPath: string,
  replaced: RetainedFileFacts | null,
  reason: RetentionReason,
  write: () => Promise<T>,
): Promise<{ result: T; retainedId: string | null }> {
  const pending = replaced ? await retention.retainFileByLink(hostPath, replaced, reason) : null;
  let result: T;
  try {
    result = await write();
  } catch (err) {
    if (pending) await retention.discard(pending.id);
    throw err;
  }
  if (pending) await retention.commit(pending);
  return { result, retainedId: pending?.id ?? null };
}
