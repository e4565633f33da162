/**
 * Maintenance tasks (scrub, prune, reindex) run one at a time, in slices that yield to the event
 * loop so the server keeps serving. Each task gets an id; its progress and result can be read
 * while it runs and after (the most recent ones are kept); a running task can be cancelled, which
 * takes effect at its next slice boundary.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

export const TASK_NAMES = ['scrub', 'prune', 'reindex'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export type TaskState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskProgress {
  phase: string;
  done: number;
}

export interface TaskRecord {
  id: string;
  task: TaskName;
  state: TaskState;
  startedAt: string;
  finishedAt?: string;
  progress: TaskProgress;
  result?: Record<string, unknown>;
  error?: string;
}

/** What a task body uses to report progress and to give the event loop its turn. */
export interface TaskContext {
  /** Enters a phase (progress counts restart at 0). */
  phase(name: string): void;
  /** One more item done; now and then yields to the event loop; throws TaskCancelledError once cancelled. */
  step(): Promise<void>;
}

export type TaskBody = (ctx: TaskContext) => Promise<Record<string, unknown>>;

export class TaskCancelledError extends Error {
  constructor() {
    super('the task was cancelled');
  }
}

/** A task was asked for while another runs (the admin API answers 409 AutomationConflict). */
export class TaskConflictError extends Error {
  constructor(readonly requested: TaskName, readonly running: TaskRecord) {
    super('Task locked. Cannot start a new automation since job is already running.');
  }
}

/** How long a slice may hold the event loop before the task yields, ms. */
const SLICE_MS = 10;
/** How many finished tasks are remembered. */
const KEEP_FINISHED = 20;

export class TaskRunner {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly cancelled = new Set<string>();
  private current: { record: TaskRecord; done: Promise<void> } | null = null;

  constructor(
    private readonly bodies: Readonly<Record<TaskName, TaskBody>>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts `task`; throws TaskConflictError while another runs. */
  start(task: TaskName): TaskRecord {
    if (this.current) throw new TaskConflictError(task, this.current.record);
    const record: TaskRecord = { id: randomUUID(), task, state: 'running', startedAt: new Date(this.clock()).toISOString(), progress: { phase: 'starting', done: 0 } };
    this.tasks.set(record.id, record);
    this.forgetOld();
    const done = this.run(record);
    this.current = { record, done };
    return record;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  /** Recent tasks, newest first. */
  list(): TaskRecord[] {
    return [...this.tasks.values()].reverse();
  }

  /** Asks a running task to stop; returns its record (unchanged when it already ended), or undefined. */
  cancel(id: string): TaskRecord | undefined {
    const record = this.tasks.get(id);
    if (record?.state === 'running') this.cancelled.add(id);
    return record;
  }

  /** Waits for task `id` to end; its record. */
  async finished(id: string): Promise<TaskRecord | undefined> {
    if (this.current?.record.id === id) await this.current.done;
    return this.tasks.get(id);
  }

  /** Cancels what runs and waits for it to stop (server shutdown). */
  async stop(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.cancelled.add(current.record.id);
    await current.done;
  }

  private async run(record: TaskRecord): Promise<void> {
    let sliceStarted = performance.now();
    const ctx: TaskContext = {
      phase: (name) => {
        record.progress = { phase: name, done: 0 };
      },
      step: async () => {
        record.progress.done += 1;
        if (performance.now() - sliceStarted < SLICE_MS && !this.cancelled.has(record.id)) return;
        await nextTurn();
        sliceStarted = performance.now();
        if (this.cancelled.has(record.id)) throw new TaskCancelledError();
      },
    };
    try {
      await nextTurn(); // the answer to the request that started it goes out first
      if (this.cancelled.has(record.id)) throw new TaskCancelledError();
      record.result = await this.bodies[record.task](ctx);
      record.state = 'succeeded';
    } catch (err) {
      record.state = err instanceof TaskCancelledError ? 'cancelled' : 'failed';
      if (!(err instanceof TaskCancelledError)) record.error = err instanceof Error ? err.message : String(err);
    } finally {
      record.finishedAt = new Date(this.clock()).toISOString();
      this.cancelled.delete(record.id);
      this.current = null;
    }
  }

  private forgetOld(): void {
    const finished = [...this.tasks.values()].filter((t) => t.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.tasks.delete(old.id);
  }
}
