/**
 * The free space retention leaves alone (`--min-free`): retained versions never fill the disk.
 * When the filesystem holding them has less free than the reserve, the oldest versions are
 * pruned first, so a client's DELETE on a full disk frees space instead of parking it in retention.
 *
 * The reserve is given in bytes (`512MiB`, `2G`, `1048576`) or as a share of the filesystem
 * (`1%`); the default, 1% capped at 256 MiB, keeps a small tmpfs usable and a large disk unbothered.
 */

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
