/**
 * Async transactions over one synchronous better-sqlite3 handle. SQLite sees a single connection,
 * so a transaction left open across an `await` would take in every statement other requests run
 * meanwhile. The gate prevents that with two step runners: `outside` (the store's own members)
 * runs a step at once when no transaction is open and otherwise waits until it has ended;
 * `inside` (a transaction's view, `tx`) runs its steps at once. Transactions run one at a time,
 * in arrival order; a nested one (through `tx`) is a SAVEPOINT. In-memory state kept beside the
 * tables (the refusals) registers undo steps, run when its transaction or savepoint rolls back;
 * `onRollback` listeners (the lock index, the retention total) reload after any rollback.
 *
 * No AsyncLocalStorage: which side a call comes from is which object it was made through, so no
 * promise hook is enabled process-wide. The price is the StateStore rule: inside a transaction's
 * work, call through `tx` only (a call through the outer store would wait for the transaction).
 */
import type Database from 'better-sqlite3';

/** How a record module runs one synchronous step. */
export interface StepRunner {
  call<T>(step: () => T): Promise<T>;
  /** Registers an undo step for in-memory state just changed; dropped outside a transaction. */
  onUndo(undo: () => void): void;
}

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
  private active: Frame | null = null;
  private queue: Promise<void> = Promise.resolve();
  /** Called after every rollback (whole or to a savepoint), once the tables are back. */
  private readonly rollbackListeners: Array<() => void> = [];

  /** Steps of callers outside any transaction: at once, or once the open transaction has ended. */
  readonly outside: StepRunner = {
    call: async <T>(step: () => T): Promise<T> => {
      while (this.active !== null) await this.active.done;
      return step();
    },
    onUndo: () => undefined,
  };

  /** Steps of the open transaction's own work: at once. */
  readonly inside: StepRunner = {
    call: async <T>(step: () => T): Promise<T> => step(),
    onUndo: (undo: () => void) => {
      this.active?.undo.push(undo);
    },
  };

  constructor(private readonly db: Database.Database) {}

  /** `listener` runs after every rollback, whole or to a savepoint (to reload what it keeps in memory). */
  onRollback(listener: () => void): void {
    this.rollbackListeners.push(listener);
  }

  /** Runs `work` in a transaction of its own, after the transactions that came before it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => { release = resolve; });
    try {
      await previous;
      let finish!: () => void;
      const done = new Promise<void>((resolve) => { finish = resolve; });
      const frame: Frame = { done, finish, savepoints: 0, undo: [] };
      this.db.exec('BEGIN IMMEDIATE');
      this.active = frame;
      try {
        const result = await work();
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

  /** Runs `work` in a savepoint of the open transaction (a nested transaction through `tx`). */
  async savepoint<T>(work: () => Promise<T>): Promise<T> {
    const frame = this.active;
    if (frame === null) throw new Error('a transaction view was used after its transaction ended');
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

  /** Resolves once every transaction started so far has ended. */
  async drain(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  private undoTo(frame: Frame, mark: number): void {
    while (frame.undo.length > mark) frame.undo.pop()!();
    for (const listener of this.rollbackListeners) listener();
  }
}

/**
 * The same record module, its steps run by `runner`: a transaction's view shares the module's
 * prepared statements and in-memory state (which therefore must be mutated in place, never
 * reassigned) and only runs its steps at once.
 */
export function viewWith<T extends { readonly gate: StepRunner }>(records: T, runner: StepRunner): T {
  return Object.create(records, { gate: { value: runner } }) as T;
}
