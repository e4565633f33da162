/**
 * Stale-upload refusals and recent deletions for the embedded store: kept in process memory (they
 * matter for seconds, and a restart only loses the protection, never data), with undo steps so a
 * rolled-back transaction takes its changes back. Entries older than `keepMs` are swept once the
 * maps grow large, and again only once they have doubled: while every entry is recent (a mass
 * delete keeps tens of thousands within the window) a sweep after each write would walk them all
 * each time.
 */
import type { DavPath } from '../../paths/davPath';
import type { DeletedFile, RefusalRecords, WriteRefusal } from '../stateStore';
import type { StepRunner, TransactionGate } from './transactionGate';

const SWEEP_ABOVE = 10_000;

export class MemoryRefusalRecords implements RefusalRecords {
  private readonly refusals = new Map<string, WriteRefusal>();
  private readonly deletions = new Map<string, DeletedFile>();
  /** The number of entries at which the next sweep runs. */
  private sweepAbove = SWEEP_ABOVE;

  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  constructor(transactions: TransactionGate, private readonly clock: () => number, private readonly keepMs = 10 * 60_000) {
    this.gate = transactions.outside;
  }

  recordRefusal(path: DavPath, clientId: string, refusal: { code: string; status: number }): Promise<void> {
    return this.gate.call(() => this.put(this.refusals, keyOf(path, clientId), { code: refusal.code, status: refusal.status, atMs: this.clock() }));
  }

  refusalOf(path: DavPath, clientId: string): Promise<WriteRefusal | null> {
    return this.gate.call(() => copy(this.refusals.get(keyOf(path, clientId))));
  }

  rearmRefusal(path: DavPath, clientId: string): Promise<void> {
    return this.gate.call(() => {
      const key = keyOf(path, clientId);
      const refusal = this.refusals.get(key);
      if (refusal) this.put(this.refusals, key, { ...refusal, atMs: this.clock() });
    });
  }

  recordDeletion(path: DavPath, clientId: string, file: Omit<DeletedFile, 'atMs'>): Promise<void> {
    return this.gate.call(() => this.put(this.deletions, keyOf(path, clientId), { etag: file.etag, mtimeMs: file.mtimeMs, size: file.size, atMs: this.clock() }));
  }

  deletionOf(path: DavPath, clientId: string): Promise<DeletedFile | null> {
    return this.gate.call(() => copy(this.deletions.get(keyOf(path, clientId))));
  }

  settle(path: DavPath, clientId: string): Promise<void> {
    return this.gate.call(() => {
      const key = keyOf(path, clientId);
      this.drop(this.refusals, key);
      this.drop(this.deletions, key);
    });
  }

  forgetBefore(cutoffMs: number): Promise<number> {
    return this.gate.call(() => this.sweep(cutoffMs));
  }

  private sweep(cutoffMs: number): number {
    let forgotten = 0;
    for (const map of [this.refusals, this.deletions] as Array<Map<string, { atMs: number }>>) {
      for (const [key, entry] of map) {
        if (entry.atMs < cutoffMs) {
          this.drop(map, key);
          forgotten += 1;
        }
      }
    }
    return forgotten;
  }

  private put<T extends { atMs: number }>(map: Map<string, T>, key: string, value: T): void {
    const previous = map.get(key);
    map.set(key, value);
    this.gate.onUndo(() => (previous ? map.set(key, previous) : map.delete(key)));
    if (this.refusals.size + this.deletions.size > this.sweepAbove) {
      this.sweep(this.clock() - this.keepMs);
      this.sweepAbove = Math.max(SWEEP_ABOVE, 2 * (this.refusals.size + this.deletions.size));
    }
  }

  private drop<T>(map: Map<string, T>, key: string): void {
    const previous = map.get(key);
    if (previous === undefined) return;
    map.delete(key);
    this.gate.onUndo(() => map.set(key, previous));
  }
}

function keyOf(path: DavPath, clientId: string): string {
  return `${clientId}\n${path}`;
}

function copy<T extends object>(entry: T | undefined): T | null {
  return entry ? { ...entry } : null;
}
