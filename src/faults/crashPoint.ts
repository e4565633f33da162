/**
 * Fault injection for the fault tests: `KEEPDAV_CRASH_AT=<step>[:<n>]` (read once, at start)
 * makes the process SIGKILL itself the n-th time (default 1st) it reaches `<step>`, so a test can
 * kill the server at every journaled step of an operation; `KEEPDAV_STOP_AT=<step>[:<n>]` makes
 * it SIGSTOP itself there instead, so a test can change the world (stop the state database) at
 * that instant and let it go on (SIGCONT). Unset, `crashPoint` is a no-op.
 */
const crashAt = parseSpec(process.env.KEEPDAV_CRASH_AT);
const stopAt = parseSpec(process.env.KEEPDAV_STOP_AT);
const reached = new Map<string, number>();

function parseSpec(value: string | undefined): { step: string; n: number } | null {
  if (!value) return null;
  const m = /^([a-z-]+:[a-z-]+)(?::(\d+))?$/.exec(value);
  return m ? { step: m[1], n: m[2] === undefined ? 1 : Math.max(1, Number(m[2])) } : null;
}

/** Marks one step of a journaled operation (names like `overwrite:kept`, `delete:moved`). */
export function crashPoint(step: string): void {
  if (crashAt?.step !== step && stopAt?.step !== step) return;
  const count = (reached.get(step) ?? 0) + 1;
  reached.set(step, count);
  if (crashAt?.step === step && count === crashAt.n) process.kill(process.pid, 'SIGKILL');
  if (stopAt?.step === step && count === stopAt.n) process.kill(process.pid, 'SIGSTOP');
}
