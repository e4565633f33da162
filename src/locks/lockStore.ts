/**
 * Persistence of locks behind a small synchronous interface, so the embedded SQLite store can be
 * swapped for a network database serving several instances later. The store holds data only; the
 * policy (conflicts, expiry) lives in LockManager.
 */
import type { ActiveLock } from './activeLock';

export interface LockStore {
  /** Returns every stored lock, expired ones included (the manager purges those). */
  loadAll(): ActiveLock[];
  /** Inserts the lock, or replaces the stored lock with the same token (a refresh). */
  save(lock: ActiveLock): void;
  /** Deletes the locks with these tokens; unknown tokens are ignored. */
  remove(tokens: readonly string[]): void;
}

/** A store that lives and dies with the process: for tests and for a server run without state. */
export class MemoryLockStore implements LockStore {
  private readonly locks = new Map<string, ActiveLock>();

  /** Returns copies of the stored locks, in insertion order. */
  loadAll(): ActiveLock[] {
    return [...this.locks.values()].map((lock) => ({ ...lock }));
  }

  save(lock: ActiveLock): void {
    this.locks.set(lock.token, { ...lock });
  }

  remove(tokens: readonly string[]): void {
    for (const token of tokens) this.locks.delete(token);
  }
}
