/**
 * keepdav's one helper thread. Reading directories for listings (listingThread.ts) and hashing
 * large uploads (contentDigests.ts) both run off the main thread, on one worker thread they
 * share: each worker is a V8 isolate of its own, 12-14 MiB of resident memory (measured: the
 * first listing took the process from 63 to 77 MiB, the first large upload then to 89), so one
 * thread instead of two keeps that much less under both kinds of load. Each user is a service
 * with its own messages; messages of both take turns on the thread in the order they were sent,
 * so a listing's batch waits behind at most the few upload batches in flight (each 1 MiB, about
 * 3 ms of hashing), and an upload's batch behind one batch of lstats.
 *
 * The thread starts from source text with a small heap and none of the process's own flags (a
 * --require of the main thread is no business of a helper). A service's source is the body of a
 * function of `require` and `post(reply, transfer)` returning the function that answers each of
 * its messages; it is installed on a thread with the service's first message there. The thread
 * is unreferenced while no service waits for an answer (`busy`), so an idle helper never keeps a
 * process alive, while a command that ends after its last call still gets its answer.
 *
 * Should the thread fail or exit, every service hears of it (onStopped) and the next message
 * starts a new thread.
 */
import { Worker } from 'node:worker_threads';

/** Megabytes of the helper's young generation (its old generation is 16). */
const YOUNG_GENERATION_MB = 2;

const ROUTER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const services = new Map();
parentPort.on('message', (m) => {
  if (m.install !== undefined) {
    const post = (reply, transfer) => parentPort.postMessage({ service: m.install, reply }, transfer);
    services.set(m.install, new Function('require', 'post', m.source)(require, post));
  } else services.get(m.service)(m.message);
});
`;

export interface HelperServiceOptions<R> {
  /** The worker side: the body of `function (require, post) { ...; return (message) => { ... } }`. */
  source: string;
  /** Each reply the service posts on the thread. */
  onMessage(reply: R): void;
  /** Called once per thread that stops (fails, exits, or is stopped) while this service was installed on it. */
  onStopped(err: Error): void;
}

/** One running helper thread as a service sees it; a new thread is a new object. */
export interface HelperThread {
  /** Sends `message` to the service on this thread; throws when it cannot be posted (the thread is gone). */
  post(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  /** Whether this service waits for answers now: the process stays alive while any service does. */
  busy(waiting: boolean): void;
}

interface Running {
  worker: Worker;
  installed: Set<string>;
  busy: Set<string>;
  threads: Map<string, HelperThread>;
}

const services = new Map<string, HelperServiceOptions<unknown>>();
let running: Running | null = null;

/** Registers service `name`; its thread() starts the shared thread (and installs the service) when needed. */
export function helperService<R>(name: string, options: HelperServiceOptions<R>): { thread(): HelperThread; current(): HelperThread | null } {
  if (services.has(name)) throw new Error(`helper service ${name} is registered twice`);
  services.set(name, options as HelperServiceOptions<unknown>);
  return {
    thread: () => threadFor(name, started()),
    current: () => running?.threads.get(name) ?? null,
  };
}

/** Stops the helper thread (the next message starts another): for a process about to end, and for tests of what follows a failure. */
export async function stopHelperThread(): Promise<void> {
  if (running) await running.worker.terminate();
}

function started(): Running {
  if (running) return running;
  const worker = new Worker(ROUTER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 16 } });
  const now: Running = { worker, installed: new Set(), busy: new Set(), threads: new Map() };
  const stop = (err: Error) => {
    if (running !== now) return;
    running = null;
    for (const name of now.installed) services.get(name)!.onStopped(err);
  };
  worker.on('message', (m: { service: string; reply: unknown }) => services.get(m.service)?.onMessage(m.reply));
  worker.on('error', stop);
  worker.on('exit', (code) => stop(new Error(`the helper thread exited (${code})`)));
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  running = now;
  return now;
}

function threadFor(name: string, on: Running): HelperThread {
  const known = on.threads.get(name);
  if (known) return known;
  on.worker.postMessage({ install: name, source: services.get(name)!.source });
  on.installed.add(name);
  const thread: HelperThread = {
    post: (message, transfer = []) => on.worker.postMessage({ service: name, message }, transfer),
    busy: (waiting) => {
      const before = on.busy.size;
      if (waiting) on.busy.add(name);
      else on.busy.delete(name);
      if (before === 0 && on.busy.size > 0) on.worker.ref();
      else if (before > 0 && on.busy.size === 0) on.worker.unref();
    },
  };
  on.threads.set(name, thread);
  return thread;
}
