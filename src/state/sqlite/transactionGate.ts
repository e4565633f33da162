/**
 * Async transactions over one synchronous better-sqlite3 handle. SQLite sees a single connection,
 * so a transaction left open across an `await` would take in every statement other requests run
 * meanwhile. The gate prevents that: while a transaction is open, calls from outside it wait until
 * it ends; calls made inside it (recognised by AsyncLocalStorage, so also through the outer store)
 * run at once. Transactions run one at a time, in arrival order. A nested transaction is a
 * SAVEPOINT. In-memory state kept beside the tables (the lock index, the refusals) registers undo
 * steps, run when its transaction or savepoint rolls back.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';

interface Frame {
  /** Resolves when the transaction has ended (committed or rolled back). */
  readonly done: Promise<void>;
  readonly finish: () => void;
  /** Savepoints opened inside it so far (names them). */
  savepoints: number;
  /** Undo steps for in-memory state, newest last. */
  readonly undo: Array<() => void>;
}

export class TransactionGate {
  private readonly context = new AsyncLocalStorage<Frame>();
  private active: Frame | null = null;
  private queue: Promise<void> = Promise.resolve();
  /** Called after every rollback (whole or to a savepoint), once the tables are back. */
  private readonly rollbackListeners: Array<() => void> = [];

  constructor(private readonly db: Database.Database) {}

  /** Whether the caller runs inside the open transaction. */
  get inside(): boolean {
    return this.active !== null && this.context.getStore() === this.active;
  }

  /**
   * Runs `step` (synchronous: one statement or a short better-sqlite3 transaction) now, or, when a
   * transaction the caller is not part of is open, once it has ended.
   */
  async call<T>(step: () => T): Promise<T> {
    while (this.active !== null && this.context.getStore() !== this.active) await this.active.done;
    return step();
  }

  /** Registers an undo step for in-memory state changed by the caller; outside a transaction it is dropped. */
  onUndo(undo: () => void): void {
    if (this.inside) this.active!.undo.push(undo);
  }

  /** `listener` runs after every rollback, whole or to a savepoint (to reload what it keeps in memory). */
  onRollback(listener: () => void): void {
    this.rollbackListeners.push(listener);
  }

  /** Runs `work` in a transaction (a savepoint when the caller is already inside one). */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.inside) return this.savepoint(this.active!, work);
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => { release = resolve; });
    try {
      await previous;
      while (this.active !== null) await this.active.done;
      let finish!: () => void;
      const done = new Promise<void>((resolve) => { finish = resolve; });
      const frame: Frame = { done, finish, savepoints: 0, undo: [] };
      this.db.exec('BEGIN IMMEDIATE');
      this.active = frame;
      try {
        const result = await this.context.run(frame, work);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.undoTo(frame, 0);
        throw err;
      } finally {
        this.active = null;
        frame.finish();
      }
    } finally {
      release();
    }
  }

  /** Resolves once every transaction started so far has ended. */
  async drain(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  private async savepoint<T>(frame: Frame, work: () => Promise<T>): Promise<T> {
    frame.savepoints += 1;
    const name = `keepdav_${frame.savepoints}`;
    const mark = frame.undo.length;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await work();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      this.undoTo(frame, mark);
      throw err;
    }
  }

  private undoTo(frame: Frame, mark: number): void {
    while (frame.undo.length > mark) frame.undo.pop()!();
    for (const listener of this.rollbackListeners) listener();
  }
}
