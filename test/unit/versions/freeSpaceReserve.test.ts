/** `--min-free` (src/versions/freeSpaceReserve.ts): sizes with units or a share of the disk; the default 1%, at most 256 MiB; how long a reading of free space stands (FreeSpaceGauge). */
import { DEFAULT_RESERVE, FreeSpaceGauge, parseFreeSpaceReserve, reserveBytes, type FreeSpaceReserve } from '../../../src/versions/freeSpaceReserve';

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

describe('FreeSpaceGauge', () => {
  function gauge(reserve: FreeSpaceReserve, free: number[]) {
    let clock = 0;
    const reads: number[] = [];
    const readings = [...free];
    const g = new FreeSpaceGauge(async () => {
      reads.push(clock);
      return { free: readings.length > 1 ? readings.shift()! : readings[0], total: 100 * GiB };
    }, reserve, () => clock);
    return { g, reads, advance: (ms: number) => { clock += ms; } };
  }

  test('far above the reserve, a reading stands for a second, then the filesystem is asked again', async () => {
    const { g, reads, advance } = gauge({ bytes: GiB }, [50 * GiB, 40 * GiB]);
    expect(await g.recent()).toEqual({ free: 50 * GiB, total: 100 * GiB, reserveBytes: GiB });
    advance(999);
    expect((await g.recent()).free).toBe(50 * GiB);
    expect(reads).toEqual([0]);
    advance(1);
    expect((await g.recent()).free).toBe(40 * GiB);
    expect(reads).toEqual([0, 1000]);
  });

  test('near the reserve, a reading stands only as long as the fastest fill would take to cross it', async () => {
    // 8 MiB above the reserve: at 8 GiB/s that is under a millisecond.
    const { g, reads, advance } = gauge({ bytes: GiB }, [GiB + 8 * MiB, GiB + 8 * MiB]);
    await g.recent();
    advance(1);
    await g.recent();
    expect(reads).toEqual([0, 1]);
  });

  test('at or below the reserve, every call reads anew, and so does fresh()', async () => {
    const { g, reads } = gauge({ percent: 1 }, [GiB / 2, GiB / 2, 50 * GiB]);
    expect(await g.recent()).toEqual({ free: GiB / 2, total: 100 * GiB, reserveBytes: GiB });
    await g.recent();
    expect(reads).toEqual([0, 0]);
    expect((await g.fresh()).free).toBe(50 * GiB);
    expect(reads).toEqual([0, 0, 0]);
    // Far above it again: the next call reuses that reading.
    expect((await g.recent()).free).toBe(50 * GiB);
    expect(reads).toEqual([0, 0, 0]);
  });
});
