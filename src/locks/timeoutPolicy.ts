/**
 * How long a lock lives: the server's answer to a client's Timeout header (RFC 4918 §10.7, §6.6).
 */

/** Bounds for granted timeouts, in seconds. maxSeconds (and defaultSeconds) may be Infinity. */
export interface TimeoutPolicy {
  minSeconds: number;
  maxSeconds: number;
  defaultSeconds: number;
}

/**
 * Throws RangeError unless 0 < minSeconds <= defaultSeconds <= maxSeconds, with minSeconds finite.
 * A zero minimum would grant locks that are expired the moment they exist.
 */
export function assertTimeoutPolicy(policy: TimeoutPolicy): void {
  const { minSeconds, maxSeconds, defaultSeconds } = policy;
  const numbers = [minSeconds, maxSeconds, defaultSeconds];
  if (numbers.some((n) => typeof n !== 'number' || Number.isNaN(n))) throw new RangeError('timeout policy needs numbers');
  if (!Number.isFinite(minSeconds) || minSeconds <= 0) throw new RangeError('minSeconds must be a positive finite number');
  if (!(minSeconds <= defaultSeconds && defaultSeconds <= maxSeconds)) {
    throw new RangeError('timeout policy needs minSeconds <= defaultSeconds <= maxSeconds');
  }
}

/**
 * Returns the timeout to grant, in whole seconds (Infinity for Infinite). RFC 4918 §10.7: the
 * client lists its preferences in order and the server need not honour any of them; we take the
 * first usable one (a number that is not NaN and not negative; fractions are rounded down) and
 * clamp it into [minSeconds, maxSeconds]. No usable value gives defaultSeconds.
 */
export function grantTimeout(policy: TimeoutPolicy, requested: readonly number[]): number {
  const usable = requested.find((value) => typeof value === 'number' && value >= 0);
  if (usable === undefined) return policy.defaultSeconds;
  const whole = Number.isFinite(usable) ? Math.floor(usable) : usable;
  return Math.min(policy.maxSeconds, Math.max(policy.minSeconds, whole));
}

/** Returns the expiry instant of a lock granted `timeoutSeconds` at `nowMs`; Infinity for Infinite. */
export function expiryOf(nowMs: number, timeoutSeconds: number): number {
  return Number.isFinite(timeoutSeconds) ? nowMs + timeoutSeconds * 1000 : Infinity;
}
