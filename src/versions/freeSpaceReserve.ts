/**
 * The free space retention leaves alone (`--min-free`): retained versions never fill the disk.
 * When the filesystem holding them has less free than the reserve, the oldest versions are
 * pruned first, so a client's DELETE on a full disk frees space instead of parking it in retention.
 *
 * The reserve is given in bytes (`512MiB`, `2G`, `1048576`) or as a share of the filesystem
 * (`1%`); the default, 1% capped at 256 MiB, keeps a small tmpfs usable and a large disk unbothered.
 */

import type { Space } from '../storage/resourceStore';

export type FreeSpaceReserve = { bytes: number } | { percent: number; capBytes?: number };

export const DEFAULT_RESERVE: FreeSpaceReserve = { percent: 1, capBytes: 256 * 1024 ** 2 };

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses `--min-free`: "N%" or N with an optional unit (K, M, G, T; KiB, MB... all binary). Null when unusable. */
export function parseFreeSpaceReserve(text: string): FreeSpaceReserve | null {
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
  if (percent) {
    const value = Number(percent[1]);
    return value >= 0 && value < 100 ? { percent: value } : null;
  }
  const sized = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!sized) return null;
  const bytes = Math.floor(Number(sized[1]) * UNITS[sized[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) ? { bytes } : null;
}

/** The reserve in bytes on a filesystem of `totalBytes`. */
export function reserveBytes(reserve: FreeSpaceReserve, totalBytes: number): number {
  if ('bytes' in reserve) return reserve.bytes;
  const share = Math.floor((totalBytes * reserve.percent) / 100);
  return reserve.capBytes === undefined ? share : Math.min(share, reserve.capBytes);
}

/**
 * How long a reading of free space may stand in for a new one: at most a second, and less the
 * nearer the free space is to the reserve, by the fastest a disk here could fill (8 GiB a second,
 * beyond a fast NVMe drive): a reading can never hide a crossing of the reserve by more than
 * that fill would allow. At or below the reserve, every call reads anew.
 */
const READING_MAX_AGE_MS = 1000;
const FASTEST_FILL_BYTES_PER_MS = (8 * 1024 ** 3) / 1000;

/**
 * The free space of the retention filesystem for pruning, which asks after every overwrite and
 * DELETE: one statfs per call was a thread-pool round trip each time (perf, 16 connections
 * overwriting 4 KiB files), for an answer that a second earlier, gigabytes above the reserve,
 * already gave. `read` takes a new reading; `now` is a monotonic clock in ms.
 */
export class FreeSpaceGauge {
  private last: { reading: Space & { reserveBytes: number }; atMs: number; validMs: number } | null = null;

  constructor(
    private readonly read: () => Promise<Space>,
    private readonly reserve: FreeSpaceReserve,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The reserve in bytes, and free space as recently read as its distance from the reserve requires. */
  async recent(): Promise<Space & { reserveBytes: number }> {
    const last = this.last;
    return last !== null && this.now() - last.atMs < last.validMs ? last.reading : this.fresh();
  }

  /** A new reading (after pruning freed space), kept for the next `recent`. */
  async fresh(): Promise<Space & { reserveBytes: number }> {
    const atMs = this.now();
    const space = await this.read();
    const reading = { free: space.free, total: space.total, reserveBytes: reserveBytes(this.reserve, space.total) };
    const headroom = reading.free - reading.reserveBytes;
    this.last = { reading, atMs, validMs: headroom > 0 ? Math.min(READING_MAX_AGE_MS, headroom / FASTEST_FILL_BYTES_PER_MS) : 0 };
    return reading;
  }
}
