/**
 * Crash injection for the fault tests: `KEEPDAV_CRASH_AT=<step>[:<n>]` (read once, at start)
 * makes the process SIGKILL itself the n-th time (default 1st) it reaches `<step>`, so a test can
 * kill the server at every journaled step of an operation. Unset, `crashPoint` is a no-op.
 */
const spec = parseSpec(process.env.KEEPDAV_CRASH_AT);
let reached = 0;

function parseSpec(value: string | undefined): { step: string; n: number } | null {
  if (!value) return null;
  const m = /^([a-z-]+:[a-z-]+)(?::(\d+))?$/.exec(value);
  return m ? { step: m[1], n: m[2] === undefined ? 1 : Math.max(1, Number(m[2])) } : null;
}

/** Marks one step of a journaled operation (names like `overwrite:kept`, `delete:moved`). */
export function crashPoint(step: string): void {
  if (spec === null || spec.step !== step) return;
  reached += 1;
  if (reached === spec.n) process.kill(process.pid, 'SIGKILL');
}
