/**
 * HTTP dates (RFC 9110 §5.6.7).
 *
 *   HTTP-date    = IMF-fixdate / obs-date
 *   IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT      ; Sun, 06 Nov 1994 08:49:37 GMT
 *   rfc850-date  = day-name-l "," SP date2 SP time-of-day SP GMT    ; Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime-date = day-name SP date3 SP time-of-day SP year         ; Sun Nov  6 08:49:37 1994
 *
 * We send only IMF-fixdate and accept all three, plus an IMF-fixdate with an unpadded day
 * ("Fri, 5 Sep 2025 10:00:00 GMT", as WinSCP writes getlastmodified) or a space-padded one
 * ("Mon,  2 Jan 2023 10:00:00 GMT", as lftp writes it). Names are matched
 * without regard to case; the weekday must be a real day name but is not checked against the
 * date. `Date.parse` is never used: it accepts far too much.
 */

import { DayTexts, clockOf } from './utcClock';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const DAY_LONG = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** Capture groups in every pattern: day, month, year, hour, minute, second (named below). */
const IMF_FIXDATE = new RegExp(`^${DAY}, ( ?\\d|\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^${DAY_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} {1,2}(\\d{1,2}) ${TIME} (\\d{4})$`, 'i');

interface DateFields {
  year: number;
  month: number; // 0-11
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function monthIndex(name: string): number {
  return MONTH_NAMES.findIndex((m) => m.toLowerCase() === name.toLowerCase());
}

/**
 * A two-digit rfc850 year. RFC 9110 §5.6.7 pivots on the current clock; to stay a pure
 * function we pivot at 70 instead: 70-99 are 1970-1999, 00-69 are 2000-2069.
 */
function expandTwoDigitYear(yy: number): number {
  return yy >= 70 ? 1900 + yy : 2000 + yy;
}

const DAYS_PER_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 1 && isLeapYear(year) ? 29 : DAYS_PER_MONTH[month];
}

function fieldsOf(value: string): DateFields | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return { day: +m[1], month: monthIndex(m[2]), year: +m[3], hour: +m[4], minute: +m[5], second: +m[6] };
  m = RFC850_DATE.exec(value);
  if (m) {
    const year = expandTwoDigitYear(+m[3]);
    return { day: +m[1], month: monthIndex(m[2]), year, hour: +m[4], minute: +m[5], second: +m[6] };
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return { month: monthIndex(m[1]), day: +m[2], hour: +m[3], minute: +m[4], second: +m[5], year: +m[6] };
  return null;
}

function toEpochMs(f: DateFields): number | null {
  if (f.day < 1 || f.day > daysInMonth(f.year, f.month)) return null;
  // second 60 is a leap second (RFC 9110 §5.6.7 allows it); it lands on the next minute.
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return null;
  const date = new Date(0);
  date.setUTCFullYear(f.year, f.month, f.day); // not Date.UTC: it maps years 0-99 to 1900-1999
  date.setUTCHours(f.hour, f.minute, f.second, 0);
  return date.getTime();
}

/**
 * Parses an HTTP date in any of the three RFC 9110 §5.6.7 formats (surrounding whitespace
 * ignored). Returns milliseconds since the epoch, or null when the value is not a date
 * (wrong shape, impossible day such as 31 Feb, hour 24, ...). Never throws.
 */
export function parseHttpDate(value: string): number | null {
  const fields = fieldsOf(value.trim());
  return fields === null ? null : toEpochMs(fields);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** "Tue, 14 Nov 2023 " for the day starting at `dayStartMs`; RangeError outside the years 0000-9999. */
const imfDays = new DayTexts((dayStartMs) => {
  const d = new Date(dayStartMs);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new RangeError(`year out of range: ${dayStartMs}`);
  return `${DAY_NAMES[d.getUTCDay()]}, ${pad(d.getUTCDate(), 2)} ${MONTH_NAMES[d.getUTCMonth()]} ${pad(year, 4)} `;
});

/** The last second formatted, and its text. */
let lastSecond = NaN;
let lastText = '';

/**
 * Formats `ms` (milliseconds since the epoch; the fraction of a second is dropped) as an
 * IMF-fixdate, e.g. "Tue, 14 Nov 2023 22:13:20 GMT" (RFC 9110 §5.6.7).
 * @throws RangeError when `ms` is not finite or falls outside the years 0000-9999.
 */
export function formatHttpDate(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  const second = Math.floor(ms / 1000);
  // Repeated GETs and a folder's files written together format the same second over and over.
  if (second === lastSecond) return lastText;
  const text = `${imfDays.of(second)}${clockOf(second)} GMT`;
  lastSecond = second;
  lastText = text;
  return text;
}

