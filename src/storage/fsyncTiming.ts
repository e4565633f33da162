/**
 * Times every fsync the storage layer makes (file data, a large upload's early fdatasyncs among
 * them, and directories), for the metrics' fsync-latency histogram. Observers are process-wide; the admin listener adds one.
 */
type FsyncObserver = (seconds: number, kind: 'file' | 'directory') => void;

const observers = new Set<FsyncObserver>();

/** Adds an observer; returns the function that removes it. */
export function observeFsyncs(observer: FsyncObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Runs one fsync and tells the observers how long it took (also when it failed). */
export async function timedFsync(kind: 'file' | 'directory', sync: () => Promise<void>): Promise<void> {
  if (observers.size === 0) return sync();
  const started = process.hrtime.bigint();
  try {
    await sync();
  } finally {
    fsyncTook(kind, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** Tells the observers of an fsync made and timed elsewhere (the durable-write helper's). */
export function fsyncTook(kind: 'file' | 'directory', seconds: number): void {
  for (const observer of observers) observer(seconds, kind);
}
