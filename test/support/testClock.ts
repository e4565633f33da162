/**
 * A clock for tests, injected where the server reads the time (startServer(config, logger, {
 * clock: clock.now }), the state store, the lock manager), so expiry and "recent" windows are
 * crossed by `advance` instead of by sleeping.
 *
 * `new TestClock(startMs)` stands still until advanced (exact times in unit tests);
 * `TestClock.realTime()` runs with the real time plus whatever was advanced (for servers, where
 * file times and the clock should agree).
 */
export class TestClock {
  private offsetMs = 0;

  /** A clock standing at `startMs` (default: the real time now) until advanced. */
  constructor(startMs: number = Date.now(), private readonly running = false) {
    this.offsetMs = running ? 0 : startMs;
  }

  /** A clock that runs with the real time, `advance` moving it ahead. */
  static realTime(): TestClock {
    return new TestClock(0, true);
  }

  /** The current time in ms; a bound function, to pass where a `() => number` clock is expected. */
  readonly now = (): number => (this.running ? Date.now() : 0) + this.offsetMs;

  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('a test clock only moves forward');
    this.offsetMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}
