/**
 * The fast date writers (src/headers/utcClock.ts) against what a Date makes of the same time:
 * formatHttpDate (getlastmodified, Last-Modified) and rfc3339 (creationdate), over the whole range
 * each accepts, day boundaries, leap days and times before 1970.
 */
import { DayTexts, clockOf } from '../../../src/headers/utcClock';
import { formatHttpDate } from '../../../src/headers/httpDate';
import { rfc3339 } from '../../../src/props/liveProperties';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The IMF-fixdate of `ms` as a Date's getters give it (what formatHttpDate computed before). */
function imfByDate(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return (
    `${DAY_NAMES[d.getUTCDay()]}, ${pad(d.getUTCDate(), 2)} ${MONTH_NAMES[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} GMT`
  );
}

/** What rfc3339 computed before: the ISO string without its milliseconds. */
const isoByDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const YEAR_0 = -62167219200000;
const YEAR_10000 = 253402300800000;
const DAY = 86_400_000;

/** Times that catch an off-by-one: around midnights, the epoch, leap days, the ends of the range; fractions too. */
function edgeTimes(): number[] {
  const days = [0, Date.UTC(2024, 1, 29), Date.UTC(2000, 1, 29), Date.UTC(1900, 2, 1), Date.UTC(2023, 11, 31), -DAY, -366 * DAY, YEAR_0, YEAR_10000 - DAY];
  const out: number[] = [];
  for (const day of days) for (const offset of [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, DAY - 1001, DAY - 1000, DAY - 1, 0.5, -0.5, 999.9]) out.push(day + offset);
  return out.filter((ms) => ms >= YEAR_0 && ms < YEAR_10000);
}

describe('formatHttpDate and rfc3339 write what a Date says', () => {
  test('at the edges', () => {
    for (const ms of edgeTimes()) {
      expect([ms, formatHttpDate(ms)]).toEqual([ms, imfByDate(ms)]);
      expect([ms, rfc3339(ms)]).toEqual([ms, isoByDate(ms)]);
    }
  });

  test('at 100,000 random times over the years 0000-9999, and the same times again (from the kept days)', () => {
    const next = random(20261206);
    const times = Array.from({ length: 100_000 }, () => YEAR_0 + Math.floor(next() * (YEAR_10000 - YEAR_0)) + (next() < 0.5 ? next() : 0));
    for (let pass = 0; pass < 2; pass++) {
      for (const ms of times) {
        const imf = formatHttpDate(ms);
        if (imf !== imfByDate(ms)) expect([ms, imf]).toEqual([ms, imfByDate(ms)]);
        const iso = rfc3339(ms);
        if (iso !== isoByDate(ms)) expect([ms, iso]).toEqual([ms, isoByDate(ms)]);
      }
    }
  });

  test('the seconds of one recent day, one by one (a folder written in a day)', () => {
    const start = Date.UTC(2026, 11, 6);
    for (let ms = start; ms < start + DAY; ms += 1000) {
      if (formatHttpDate(ms) !== imfByDate(ms)) expect(formatHttpDate(ms)).toBe(imfByDate(ms));
      if (rfc3339(ms) !== isoByDate(ms)) expect(rfc3339(ms)).toBe(isoByDate(ms));
    }
  });

  test('creation dates beyond the years 0000-9999 are written as a Date writes them, and an invalid time throws as before', () => {
    for (const ms of [8.64e15, -8.64e15, YEAR_10000, YEAR_0 - 1]) expect(rfc3339(ms)).toBe(isoByDate(ms));
    for (const ms of [NaN, Infinity, 8.64e15 + 1]) expect(() => rfc3339(ms)).toThrow(RangeError);
  });
});

describe('utcClock', () => {
  test('clockOf writes the time of day, before 1970 too', () => {
    expect(clockOf(0)).toBe('00:00:00');
    expect(clockOf(86_399)).toBe('23:59:59');
    expect(clockOf(-1)).toBe('23:59:59');
    expect(clockOf(1_700_000_000)).toBe('22:13:20');
  });

  test('DayTexts makes each day once, keeps at most its bound, and keeps nothing for a day it could not make', () => {
    const made: number[] = [];
    const days = new DayTexts((dayStartMs) => {
      if (dayStartMs < 0) throw new RangeError('before 1970');
      made.push(dayStartMs);
      return `day ${dayStartMs / DAY}`;
    }, 2);
    expect(days.of(10)).toBe('day 0');
    expect(days.of(86_399)).toBe('day 0');
    expect(days.of(86_400)).toBe('day 1');
    expect(made).toEqual([0, DAY]);
    expect(() => days.of(-1)).toThrow(RangeError);
    expect(days.of(2 * 86_400)).toBe('day 2'); // full: the two kept are dropped
    expect(days.of(0)).toBe('day 0');
    expect(made).toEqual([0, DAY, 2 * DAY, 0]);
  });
});
