import { parseOcMtime } from '../../../src/headers/ocMtime';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseOcMtime (X-OC-Mtime, unix seconds -> ms)', () => {
  test.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['1700000000', 1700000000000],
    [' 1700000000 ', 1700000000000],
    ['0', 0],
    ['1700000000.5', 1700000000500],
    ['1700000000.25', 1700000000250],
    ['1700000000.123456789', 1700000000123], // beyond ms is dropped, not rounded up
    ['1700000000.999999', 1700000000999],
    ['1700000000.0', 1700000000000],
    ['0001700000000', 1700000000000],
    ['253402300799', 253402300799000], // 9999-12-31T23:59:59Z, the last allowed second
    ['253402300799.999', 253402300799999],
  ])('%p -> %p', (value, expected) => {
    expect(parseOcMtime(value)).toBe(expected);
  });

  test.each([
    '',
    '  ',
    '-1',
    '-1700000000',
    '+1700000000',
    '1.7e9',
    '0x10',
    'NaN',
    'Infinity',
    'abc',
    '1700000000.',
    '.5',
    '1700000000 1',
    'Tue, 14 Nov 2023 22:13:20 GMT',
    '253402300800', // 10000-01-01T00:00:00Z
    '99999999999999999999',
  ])('%p throws', (value) => {
    expect(() => parseOcMtime(value)).toThrow(HeaderSyntaxError);
  });
});
