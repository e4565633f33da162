/**
 * A log destination that gathers the lines written during one turn of the event loop and hands
 * them to the underlying synchronous destination in one write, at the end of that turn
 * (setImmediate). Under load many requests finish in one turn, so the access log costs one
 * write(2) per turn instead of one per request (measured: the per-line write was 7 % of a small
 * GET's CPU). Idle, a line still reaches the file before any timer or I/O of the next turn, and
 * whatever is pending is written synchronously when the process exits.
 *
 * Usage: `const stream = turnBatched(pino.destination({ dest, sync: true }));` then give `stream`
 * to pino; `stream.flushNow()` before reopening the file.
 */
import type { DestinationStream } from 'pino';

export interface TurnBatchedStream extends DestinationStream {
  /** Writes what is pending now. */
  flushNow(): void;
}

/** Every batched stream, flushed once by one exit listener. */
const open = new Set<TurnBatchedStream>();
let exitHooked = false;

export function turnBatched(destination: DestinationStream): TurnBatchedStream {
  let pending = '';
  let scheduled = false;
  const flushNow = (): void => {
    scheduled = false;
    if (pending === '') return;
    const lines = pending;
    pending = '';
    destination.write(lines);
  };
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const stream of open) stream.flushNow();
    });
  }
  const stream: TurnBatchedStream = {
    write(line: string): void {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushNow);
      }
    },
    flushNow,
  };
  open.add(stream);
  return stream;
}
