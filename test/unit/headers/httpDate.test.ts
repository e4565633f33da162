import { formatHttpDate, parseHttpDate } from '../../../src/headers/httpDate';

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  test.each<[string, string, number]>([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', NOV_6_1994],
    ['RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT', NOV_6_1994],
    ['asctime, space-padded day', 'Sun Nov  6 08:49:37 1994', NOV_6_1994],
    ['asctime, two-digit day', 'Wed Nov 16 08:49:37 1994', Date.UTC(1994, 10, 16, 8, 49, 37)],
    ['asctime, single space before one-digit day', 'Sun Nov 6 08:49:37 1994', NOV_6_1994],
    ['IMF-fixdate, unpadded day (WinSCP)', 'Fri, 5 Sep 2025 10:00:00 GMT', Date.UTC(2025, 8, 5, 10, 0, 0)],
    ['IMF-fixdate, space-padded day (lftp)', 'Mon,  2 Jan 2023 10:20:30 GMT', Date.UTC(2023, 0, 2, 10, 20, 30)],
    ['rclone X-OC-Mtime round trip', 'Tue, 14 Nov 2023 22:13:20 GMT', 1700000000000],
    ['names in other letter cases', 'tue, 14 NOV 2023 22:13:20 gmt', 1700000000000],
    ['surrounding whitespace', '  Tue, 14 Nov 2023 22:13:20 GMT ', 1700000000000],
    ['RFC 850 two-digit year 69 is 2069', 'Monday, 01-Jan-69 00:00:00 GMT', Date.UTC(2069, 0, 1)],
    ['RFC 850 two-digit year 70 is 1970', 'Thursday, 01-Jan-70 00:00:00 GMT', 0],
    ['leap day in a leap year', 'Thu, 29 Feb 2024 12:00:00 GMT', Date.UTC(2024, 1, 29, 12)],
    ['leap day in 2000', 'Tue, 29 Feb 2000 00:00:00 GMT', Date.UTC(2000, 1, 29)],
    ['leap second rolls to the next minute', 'Sat, 31 Dec 2016 23:59:60 GMT', Date.UTC(2017, 0, 1)],
    ['year 0001 is not read as 1901', 'Mon, 01 Jan 0001 00:00:00 GMT', -62135596800000],
    ['year 9999', 'Fri, 31 Dec 9999 23:59:59 GMT', 253402300799000],
    ['before the epoch', 'Wed, 31 Dec 1969 23:59:59 GMT', -1000],
  ])('%s', (_name, value, expected) => {
    expect(parseHttpDate(value)).toBe(expected);
  });

  test.each([
    '',
    'yesterday',
    '1700000000',
    '2023-11-14T22:13:20Z',
    'Tue, 14 Nov 2023 22:13:20', // no GMT
    'Tue, 14 Nov 2023 22:13:20 UTC',
    'Tue, 14 Nov 2023 22:13:20 +0000',
    'Tue 14 Nov 2023 22:13:20 GMT', // no comma
    'Tue, 14 Nov 23 22:13:20 GMT', // two-digit year in IMF-fixdate
    'Tue, 14 November 2023 22:13:20 GMT',
    'Tuesday, 14 Nov 2023 22:13:20 GMT', // long day name with IMF layout
    'Tue, 14-Nov-23 22:13:20 GMT', // short day name with RFC 850 layout
    'Xyz, 14 Nov 2023 22:13:20 GMT',
    'Tue, 14 Foo 2023 22:13:20 GMT',
    'Tue, 31 Nov 2023 22:13:20 GMT', // 31 November
    'Thu, 29 Feb 2023 12:00:00 GMT', // 2023 is no leap year
    'Mon, 29 Feb 1900 12:00:00 GMT', // nor is 1900
    'Tue, 00 Nov 2023 22:13:20 GMT',
    'Tue, 14 Nov 2023 24:00:00 GMT',
    'Tue, 14 Nov 2023 22:60:00 GMT',
    'Tue, 14 Nov 2023 22:13:61 GMT',
    'Tue, 14 Nov 2023 2:13:20 GMT',
    'Tue, 14 Nov 2023 22:13:20 GMT garbage',
    'Tue,  14 Nov 2023 22:13:20 GMT',
    'Sun Nov   6 08:49:37 1994', // three spaces
    'Tue, 14 Nov 12023 22:13:20 GMT',
  ])('%p is not a date', (value) => {
    expect(parseHttpDate(value)).toBeNull();
  });
});

describe('formatHttpDate (IMF-fixdate)', () => {
  test.each<[number, string]>([
    [1700000000000, 'Tue, 14 Nov 2023 22:13:20 GMT'],
    [1700000000999, 'Tue, 14 Nov 2023 22:13:20 GMT'], // fraction dropped, never rounded up
    [0, 'Thu, 01 Jan 1970 00:00:00 GMT'],
    [-1, 'Wed, 31 Dec 1969 23:59:59 GMT'],
    [Date.UTC(2025, 8, 5, 10, 0, 0), 'Fri, 05 Sep 2025 10:00:00 GMT'], // day zero-padded
    [-62135596800000, 'Mon, 01 Jan 0001 00:00:00 GMT'], // year zero-padded
    [253402300799000, 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('%p -> %p', (ms, expected) => {
    expect(formatHttpDate(ms)).toBe(expected);
  });

  test.each([NaN, Infinity, -Infinity, 253402300800000, -62167219200001])('%p throws RangeError', (ms) => {
    expect(() => formatHttpDate(ms)).toThrow(RangeError);
  });

  test('format then parse gives the time back at one-second resolution', () => {
    for (const ms of [0, 1, 999, 1000, 1700000000123, 951782400000, 4102444800000]) {
      expect(parseHttpDate(formatHttpDate(ms))).toBe(Math.floor(ms / 1000) * 1000);
    }
  });
});
