/**
 * Dates written by the second, fast: a listing writes one or two dates per member
 * (getlastmodified, creationdate), and the files of a real folder were changed at different
 * seconds. Each date is its day's text, made once per day through a Date and kept (DayTexts), and
 * the time of day from a table of two-digit numbers: 0.1 µs where a Date and its getters per
 * member took 0.9. Times are UTC and have no leap seconds, as in ECMAScript's Date.
 *
 * Usage:
 *   const days = new DayTexts((dayStartMs) => ...the day's text...);
 *   const second = Math.floor(ms / 1000);
 *   days.of(second) + clockOf(second)     // e.g. "Tue, 14 Nov 2023 " + "22:13:20"
 */

const SECONDS_PER_DAY = 86_400;

/** "00" to "59". */
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

/** The UTC time of day of `second` (seconds since the epoch, an integer) as "HH:MM:SS". */
export function clockOf(second: number): string {
  let rest = second - Math.floor(second / SECONDS_PER_DAY) * SECONDS_PER_DAY;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  return `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[rest - minutes * 60]}`;
}

/**
 * Texts made once per UTC day and kept, at most `maxDays` of them (all are dropped when full:
 * a folder's dates fall on far fewer days than it has files).
 */
export class DayTexts {
  private readonly byDay = new Map<number, string>();

  /** `format` makes a day's text from the day's first millisecond; it may throw, and nothing is kept then. */
  constructor(private readonly format: (dayStartMs: number) => string, private readonly maxDays = 1024) {}

  /** The text of the day `second` (seconds since the epoch, an integer) falls on. */
  of(second: number): string {
    const day = Math.floor(second / SECONDS_PER_DAY);
    let text = this.byDay.get(day);
    if (text === undefined) {
      text = this.format(day * SECONDS_PER_DAY * 1000);
      if (this.byDay.size >= this.maxDays) this.byDay.clear();
      this.byDay.set(day, text);
    }
    return text;
  }
}
