/** Sizes and durations on the command line (src/units.ts): IEC and SI units, bare K/M/G, plain numbers keep their unit. */
import { parseSize, parseDuration, UnitError } from '../../src/units';

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['10GiB', 10 * 1024 ** 3],
    ['10gib', 10 * 1024 ** 3],
    ['512MB', 512 * 1000 ** 2],
    ['512MiB', 512 * 1024 ** 2],
    ['10G', 10 * 1024 ** 3],
    ['1.5KiB', 1536],
    ['2TB', 2 * 1000 ** 4],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize('retain-bytes', text)).toBe(bytes);
  });

  it.each(['10X', 'ten', '-1GiB', '', 'GiB'])('refuses %j, naming the option', (text) => {
    expect(() => parseSize('retain-bytes', text)).toThrow(UnitError);
    expect(() => parseSize('retain-bytes', text)).toThrow(/--retain-bytes/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 1000, 90_000],
    ['30d', 86_400_000, 30 * 86_400_000],
    ['12h', 86_400_000, 12 * 3_600_000],
    ['30', 86_400_000, 30 * 86_400_000],
    ['120', 1000, 120_000],
    ['1.5m', 1000, 90_000],
  ])('%s (plain unit %d ms) is %d ms', (text, unit, ms) => {
    expect(parseDuration('idle-timeout', text, unit)).toBe(ms);
  });

  it.each(['soon', '-5s', '5 fortnights', ''])('refuses %j, naming the option', (text) => {
    expect(() => parseDuration('idle-timeout', text, 1000)).toThrow(/--idle-timeout/);
  });
});
