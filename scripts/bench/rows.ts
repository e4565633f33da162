/**
 * All benchmark rows, in the order they run against each server.
 *
 * Usage: `for (const row of selectRows(options.rows)) await row.run(ctx);`
 * get-large reads the file put-large wrote; when put-large is not selected, the fixtures seed
 * the file on disk instead (see needsSeededLargeFile).
 */
import type { RowName } from './options';
import type { RowDefinition } from './rowTypes';
import { getSmallFileRow, getSmallFileSignedInRow, lockUnlockRow, propfindListingRow, putSmallFileRow } from './throughputRows';
import { getLargeFileRow, putLargeFileRow } from './largeFileRows';

export const ALL_ROWS: readonly RowDefinition[] = [
  getSmallFileRow,
  getSmallFileSignedInRow,
  propfindListingRow,
  putSmallFileRow,
  putLargeFileRow,
  getLargeFileRow,
  lockUnlockRow,
];

export function selectRows(names: readonly RowName[]): RowDefinition[] {
  return ALL_ROWS.filter((row) => names.includes(row.name));
}

export function needsSeededLargeFile(names: readonly RowName[]): boolean {
  return names.includes('get-large') && !names.includes('put-large');
}
