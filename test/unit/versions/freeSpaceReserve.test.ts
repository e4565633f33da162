/** `--min-free` (src/versions/freeSpaceReserve.ts): sizes with units or a share of the disk; the default 1%, at most 256 MiB. */
import { DEFAULT_RESERVE, parseFreeSpaceReserve, reserveBytes } from '../../../src/versions/freeSpaceReserve';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('parseFreeSpaceReserve', () => {
  test.each([
    ['1048576', { bytes: 1048576 }],
    ['512MiB', { bytes: 512 * MiB }],
    ['512M', { bytes: 512 * MiB }],
    ['512mb', { bytes: 512 * MiB }],
    ['2G', { bytes: 2 * GiB }],
    ['1.5GiB', { bytes: 1.5 * GiB }],
    ['64K', { bytes: 64 * 1024 }],
    ['1%', { percent: 1 }],
    ['0.5 %', { percent: 0.5 }],
    ['0', { bytes: 0 }],
  ])('%s', (text, expected) => {
    expect(parseFreeSpaceReserve(text)).toEqual(expected);
  });

  test.each(['', 'lots', '-1', '100%', '5 parsecs', '1e9', '12X'])('%j is refused (null)', (text) => {
    expect(parseFreeSpaceReserve(text)).toBeNull();
  });
});

describe('reserveBytes', () => {
  test('bytes are taken as they are', () => {
    expect(reserveBytes({ bytes: 123 }, 10 * GiB)).toBe(123);
  });
  test('the default is 1% of the disk, at most 256 MiB', () => {
    expect(reserveBytes(DEFAULT_RESERVE, 8 * MiB)).toBe(Math.floor((8 * MiB) / 100));
    expect(reserveBytes(DEFAULT_RESERVE, 10 * GiB)).toBe(Math.floor((10 * GiB) / 100));
    expect(reserveBytes(DEFAULT_RESERVE, 1024 * GiB)).toBe(256 * MiB);
  });
  test('a plain share has no cap', () => {
    expect(reserveBytes({ percent: 2 }, 1024 * GiB)).toBe(Math.floor((1024 * GiB * 2) / 100));
  });
});
