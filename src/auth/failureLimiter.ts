/**
 * Slows down guessing: counts failed sign-ins per client address over the last minute and, past
 * the limit, answers that address (only) with 429 and Retry-After until its oldest failure ages
 * out (RFC 6585 §4). An IPv6 address counts with its whole /64, the least a host is given (RFC
 * 6177), so one machine cannot try from a new address each time. The clock is injected so tests
 * advance time instead of sleeping.
 */
import ipaddr from 'ipaddr.js';

const WINDOW_MS = 60_000;
/** Addresses remembered at most; the longest-quiet one is forgotten first. */
const MAX_ADDRESSES = 10_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limitPerMinute: number, private readonly clock: () => number) {}

  /** Seconds this address must wait, or null when it may try. */
  retryAfterSeconds(address: string): number | null {
    const recent = this.recent(sourceOf(address));
    if (recent.length < this.limitPerMinute) return null;
    return Math.max(1, Math.ceil((recent[0] + WINDOW_MS - this.clock()) / 1000));
  }

  recordFailure(address: string): void {
    const source = sourceOf(address);
    const recent = this.recent(source);
    recent.push(this.clock());
    this.failures.delete(source);
    this.failures.set(source, recent);
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

/** Whom failures are counted against: an IPv4 address (also IPv4-mapped IPv6), or an IPv6 /64. */
export function sourceOf(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(parts).toString()}/64`;
}
