/**
 * A clock for tests, injected where the server reads the time (startServer(config, logger, {
 * clock: clock.now }), the state store, the lock manager), so expiry and "recent" windows are
 * crossed by `advance` instead of by sleeping.
 */
export class TestClock {
  /** Starts at the real time by default, so file times and the clock agree at first. */
  constructor(private nowMs: number = Date.now()) {}

  /** The current time in ms; a bound function, to pass where a `() => number` clock is expected. */
  readonly now = (): number => this.nowMs;

  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('a test clock only moves forward');
    this.nowMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}
