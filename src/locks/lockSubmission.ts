/**
 * Whether the lock tokens submitted with a write satisfy the locks on one resource.
 */
import type { ActiveLock } from './activeLock';

/**
 * Returns the first lock among `locksOnResource` (all the locks covering ONE resource, in the
 * order LockTree.covering gives) that the `submitted` tokens do not satisfy; null when all are.
 *
 * The rule (RFC 4918 §6.1 items 3 and 6, §6.2, §7 and §7.5):
 * - every exclusive lock needs its own token: its holder is the only one allowed to write;
 * - the shared locks are satisfied together as soon as ONE shared token covering the resource
 *   was submitted: a shared lock promises its holder that no one without a lock on the resource
 *   writes to it, and each holder of a shared lock may write. So a writer submitting none of the
 *   shared tokens is blocked by the first shared lock, and a writer holding one is not blocked
 *   by the other holders' shared locks.
 * Conflict rules make "an exclusive and a shared lock on one resource" impossible for locks
 * granted here, but the rule above stays safe if a store ever held both: each demands its share.
 */
export function firstUnsatisfiedLock(
  locksOnResource: readonly ActiveLock[],
  submitted: ReadonlySet<string>,
): ActiveLock | null {
  const sharedSatisfied = locksOnResource.some((lock) => lock.scope === 'shared' && submitted.has(lock.token));
  for (const lock of locksOnResource) {
    if (lock.scope === 'exclusive' ? !submitted.has(lock.token) : !sharedSatisfied) return lock;
  }
  return null;
}
