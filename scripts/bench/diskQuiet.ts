/**
 * Waits until what is written to the machine's filesystems is on disk (sync(1)), so that a
 * measurement does not pay for the writes of the one before it.
 *
 *   await diskQuiet();   // between two servers' turns, and before the first
 *
 * A server that does not sync (Apache, nginx and lighttpd never do) leaves its uploads dirty in
 * the page cache, and the kernel writes them back within the next 30 s (vm.dirty_expire_centisecs),
 * on the same disk queue as the fsyncs of whatever runs next: for keepdav and the ceiling, which
 * make an upload durable before they answer, the next server's large PUT among them. So the order
 * of servers moved that row: in one run of the small-PUT rows then the large PUT (keepdav, Apache,
 * the ceiling; 2 rounds), keepdav's large PUT took 0.754 s in the turn right after the small-PUT
 * rows and 0.665 s in the next round, the ceiling's 0.917 and 0.534; with this wait before each
 * turn, 0.641 and 0.631, and 0.759 and 0.557. It does not take away all of that row's spread (0.753
 * and 0.601 s in the full run on 2de3faa), but no turn pays for another server's writes any more.
 */
import { spawn } from 'node:child_process';

/** Resolves once sync(1) has returned, or after `withinMs` (a disk that never catches up does not stop the bench). */
export function diskQuiet(withinMs = 60_000): Promise<void> {
  return new Promise((resolve) => {
    const sync = spawn('sync', [], { stdio: 'ignore' });
    const timer = setTimeout(resolve, withinMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    sync.on('exit', done);
    sync.on('error', done);
  });
}
