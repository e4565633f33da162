/**
 * A write whose filesystem step is done but whose state commit could not be made (the shared
 * state database went away in between) and is being retried. The write claim that covers it must
 * stay in force until `settled` resolves: a neighbour writing into its trees meanwhile would have
 * its new properties, versions or locks overwritten by the commit when it lands. `settled`
 * resolves once the commit is made, and rejects when it never will be by this process (closed,
 * or its step was settled by a neighbour's recovery); the claim's record then stays for that
 * recovery. The edge answers 503 state-unavailable, saying the change was made and will be recorded.
 */
export class CommitOutstandingError extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
    readonly settled: Promise<void>,
  ) {
    super(`${operation} was carried out on disk; its record waits for the state database: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'CommitOutstandingError';
    // Its outcome is read by the claim that holds the write; an unobserved rejection is no crash.
    settled.catch(() => undefined);
  }
}
