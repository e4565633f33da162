/**
 * Slows down guessing: counts failed sign-ins per client address over the last minute and, past
 * the limit, answers that address (only) with 429 and Retry-After until its oldest failure ages
 * out (RFC 6585 §4). The clock is injected so tests advance time instead of sleeping.
 */

const WINDOW_MS = 60_000;
/** Addresses remembered at most; the longest-quiet one is forgotten first. */
const MAX_ADDRESSES = 10_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limitPerMinute: number, private readonly clock: () => number) {}

  /** Seconds this address must wait, or null when it may try. */
  retryAfterSeconds(address: string): number | null {
    const recent = this.recent(address);
    if (recent.length < this.limitPerMinute) return null;
    return Math.max(1, Math.ceil((recent[0] + WINDOW_MS - this.clock()) / 1000));
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(this.clock());
    this.failures.delete(address);
    this.failures.set(address, recent);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(address: string): number[] {
    const list = this.failures.get(address);
    if (!list) return [];
    const since = this.clock() - WINDOW_MS;
    while (list.length > 0 && list[0] <= since) list.shift();
    if (list.length === 0) this.failures.delete(address);
    return list;
  }
}
