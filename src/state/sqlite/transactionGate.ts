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
 * A write step of a record module (an upload's version record, the retained version's row, its
 * commit, the pruning after it) can go through `group` instead: such steps wait for the next
 * turn of the event loop, and all that arrived meanwhile commit as one transaction. A commit in
 * WAL mode costs six file locks and a write per changed page, most of a small PUT's SQLite time
 * (an upload over an existing file makes four), and sixteen concurrent uploads share one. Order
 * is kept: any step, grouped write or transaction that comes later runs the waiting group first,
 * so a read sees every write issued before it. When one grouped step fails, the group rolls back
 * (the rollback listeners reload) and each step runs alone, so each caller gets the outcome it
 * would have had. A grouped step must register no undo step (outside a transaction none is kept).

 * No AsyncLocalStorage: which side a call comes from is which object it was made through, so no
 * promise hook is enabled process-wide. The price is the StateStore rule: inside a transaction's
 * work, call through `tx` only (a call through the outer store would wait for the transaction).
 */
import type Database from 'better-sqlite3';

/** How a record module runs one synchronous step. */
export interface StepRunner {
  call<T>(step: () => T): Promise<T>;
  /** A write step that may commit together with others (see above); registers no undo step. */
  group<T>(step: () => T): Promise<T>;
  /** Registers an undo step for in-memory state just changed; dropped outside a transaction. */
  onUndo(undo: () => void): void;
}

interface GroupedStep {
  readonly step: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
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
  /** Grouped writes waiting for their commit, in arrival order. */
  private grouped: GroupedStep[] = [];

  /** Steps of callers outside any transaction: at once, or once the open transaction has ended. */
  readonly outside: StepRunner = {
    call: async <T>(step: () => T): Promise<T> => {
      while (this.active !== null) await this.active.done;
      this.commitGrouped();
      return step();
    },
    group: <T>(step: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (this.grouped.push({ step, resolve: resolve as (value: unknown) => void, reject }) === 1) setImmediate(() => void this.commitGroupedOnceFree());
      }),
    onUndo: () => undefined,
  };

  /** Steps of the open transaction's own work: at once. */
  readonly inside: StepRunner = {
    call: async <T>(step: () => T): Promise<T> => step(),
    group: async <T>(step: () => T): Promise<T> => step(),
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
      this.commitGrouped();
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

  /** Resolves once every transaction started so far has ended, and every grouped write issued so far is committed. */
  async drain(): Promise<void> {
    let seen: Promise<void> | null = null;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
    await this.commitGroupedOnceFree();
  }

  private async commitGroupedOnceFree(): Promise<void> {
    while (this.active !== null) await this.active.done;
    this.commitGrouped();
  }

  /** Commits the waiting grouped writes as one transaction; outside any transaction only. */
  private commitGrouped(): void {
    const steps = this.grouped;
    if (steps.length === 0) return;
    this.grouped = [];
    if (steps.length === 1) return runAlone(steps[0]);
    const results: unknown[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const { step } of steps) results.push(step());
      this.db.exec('COMMIT');
    } catch {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        // What the steps that ran changed in memory beside the tables reloads, as after any rollback.
        for (const listener of this.rollbackListeners) listener();
      } catch (err) {
        // No way back (the connection is gone): every caller is told, none waits for ever.
        for (const grouped of steps) grouped.reject(err);
        return;
      }
      for (const grouped of steps) runAlone(grouped);
      return;
    }
    steps.forEach((grouped, i) => grouped.resolve(results[i]));
  }

  private undoTo(frame: Frame, mark: number): void {
    while (frame.undo.length > mark) frame.undo.pop()!();
    for (const listener of this.rollbackListeners) listener();
  }
}

function runAlone({ step, resolve, reject }: GroupedStep): void {
  try {
    resolve(step());
  } catch (err) {
    reject(err);
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
