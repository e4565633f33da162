/**
 * A min-heap of (token, expiresAtMs) pairs so expired locks are found without scanning them all:
 * purging costs O(k log n) for k expired locks. Entries are never updated in place; a refreshed
 * or released lock leaves a stale entry behind, which the caller recognises and skips (its lock is
 * gone or now carries another expiry). Locks that never expire are not queued.
 */
export interface ExpiryEntry {
  readonly token: string;
  readonly expiresAtMs: number;
}

export class ExpiryQueue {
  private heap: ExpiryEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Queues an entry; entries with an infinite expiry are ignored. */
  push(entry: ExpiryEntry): void {
    if (!Number.isFinite(entry.expiresAtMs)) return;
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  /** Removes and returns every entry with expiresAtMs <= nowMs, earliest first. */
  popDue(nowMs: number): ExpiryEntry[] {
    const due: ExpiryEntry[] = [];
    while (this.heap.length > 0 && this.heap[0].expiresAtMs <= nowMs) {
      due.push(this.popMin());
    }
    return due;
  }

  /** Replaces the contents with `entries` (used to drop stale entries in one O(n) pass). */
  rebuild(entries: readonly ExpiryEntry[]): void {
    this.heap = entries.filter((entry) => Number.isFinite(entry.expiresAtMs));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private popMin(): ExpiryEntry {
    const min = this.heap[0];
    const last = this.heap.pop() as ExpiryEntry;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return min;
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent].expiresAtMs <= heap[index].expiresAtMs) return;
      [heap[parent], heap[index]] = [heap[index], heap[parent]];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left].expiresAtMs < heap[smallest].expiresAtMs) smallest = left;
      if (right < heap.length && heap[right].expiresAtMs < heap[smallest].expiresAtMs) smallest = right;
      if (smallest === index) return;
      [heap[smallest], heap[index]] = [heap[index], heap[smallest]];
      index = smallest;
    }
  }
}
