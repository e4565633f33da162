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
    ['15032385535', 15032385535000], // 2446-05-10T22:38:55Z, the last second a file can keep (ext4)
    ['15032385535.999', 15032385535999],
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
    '15032385536', // a second later: ext4 would store 2446-05-10T22:38:55Z instead, without a word
    '253402300799', // 9999-12-31T23:59:59Z
    '99999999999999999999',
  ])('%p throws', (value) => {
    expect(() => parseOcMtime(value)).toThrow(HeaderSyntaxError);
  });
});
