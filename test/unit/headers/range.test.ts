import { ifRangeAllows, parseRange } from '../../../src/headers/range';

describe('parseRange (RFC 9110 §14.2)', () => {
  test.each<[string | undefined, number, ReturnType<typeof parseRange>]>([
    [undefined, 100, null],
    // int-range
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=10-10', 100, { start: 10, end: 10 }],
    ['bytes=90-200', 100, { start: 90, end: 99 }], // last-pos clamped
    ['bytes=99-99', 100, { start: 99, end: 99 }],
    ['bytes=50-', 100, { start: 50, end: 99 }],
    ['bytes=0-', 100, { start: 0, end: 99 }],
    ['bytes=0-99999999999999999999999', 100, { start: 0, end: 99 }],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=100-200', 100, 'unsatisfiable'],
    ['bytes=99999999999999999999-', 100, 'unsatisfiable'],
    ['bytes=0-0', 0, 'unsatisfiable'], // empty representation
    ['bytes=0-', 0, 'unsatisfiable'],
    // suffix-range
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-100', 100, { start: 0, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=-1', 1, { start: 0, end: 0 }],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=-5', 0, 'unsatisfiable'],
    // tolerated spellings
    ['BYTES=0-9', 100, { start: 0, end: 9 }],
    [' bytes= 0-9 ', 100, { start: 0, end: 9 }],
    ['bytes=0-9,', 100, { start: 0, end: 9 }], // empty list element
    // ignored: serve 200 whole
    ['bytes=0-9,20-29', 100, null],
    ['bytes=0-9, -5', 100, null],
    ['bytes=200-300,400-500', 100, null],
    ['items=0-9', 100, null],
    ['bytes 0-9', 100, null],
    ['bytes=', 100, null],
    ['bytes=-', 100, null],
    ['bytes=9-0', 100, null], // last-pos < first-pos is invalid
    ['bytes=a-b', 100, null],
    ['bytes=1.5-3', 100, null],
    ['bytes=--5', 100, null],
    ['bytes=0-9-', 100, null],
    ['bytes=+1-5', 100, null],
    ['bytes=0 - 9', 100, null],
    ['', 100, null],
    ['=0-9', 100, null],
  ])('%p over %p bytes -> %p', (value, size, expected) => {
    expect(parseRange(value, size)).toEqual(expected);
  });
});

describe('ifRangeAllows (RFC 9110 §13.1.5)', () => {
  const T0 = Date.UTC(2023, 10, 14, 22, 13, 20);
  test.each<[string, string | undefined, string | null, number | null, boolean]>([
    ['absent', undefined, '"v1"', T0, true],
    ['same strong tag', '"v1"', '"v1"', T0, true],
    ['same tag with whitespace', ' "v1" ', '"v1"', T0, true],
    ['other tag', '"v0"', '"v1"', T0, false],
    ['weak tag never matches', 'W/"v1"', '"v1"', T0, false],
    ['current tag weak', '"v1"', 'W/"v1"', T0, false],
    ['no current tag', '"v1"', null, T0, false],
    ['same date (Finder)', 'Tue, 14 Nov 2023 22:13:20 GMT', '"v1"', T0, true],
    ['same date, fraction on the resource', 'Tue, 14 Nov 2023 22:13:20 GMT', '"v1"', T0 + 999, true],
    ['date in asctime', 'Tue Nov 14 22:13:20 2023', '"v1"', T0, true],
    ['earlier date', 'Tue, 14 Nov 2023 22:13:19 GMT', '"v1"', T0, false],
    ['later date is not equal either', 'Tue, 14 Nov 2023 22:13:21 GMT', '"v1"', T0, false],
    ['no modification time', 'Tue, 14 Nov 2023 22:13:20 GMT', '"v1"', null, false],
    ['garbage', 'yesterday', '"v1"', T0, false],
    ['unquoted tag', 'v1', 'v1', T0, false],
    ['empty', '', '"v1"', T0, false],
  ])('%s', (_name, value, etag, lastModifiedMs, expected) => {
    expect(ifRangeAllows(value, etag, lastModifiedMs)).toBe(expected);
  });
});
