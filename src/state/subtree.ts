import { ROOT, isSameOrInside, parentOf, type DavPath } from '../paths/davPath';

/** A resource and everything below it, as subtreeBounds gives them. */
export interface SubtreeBounds {
  path: string;
  lower: string;
  upper: string;
}

/**
 * Bounds for selecting a resource and everything below it in a TEXT column of DavPaths:
 * `col = @path OR (col >= @lower AND col < @upper)`. '/' sorts right before '0', so every
 * descendant "path/..." lies in [path + '/', path + '0').
 */
export function subtreeBounds(path: DavPath): SubtreeBounds {
  return path === ROOT ? { path, lower: '/', upper: '0' } : { path, lower: path + '/', upper: path + '0' };
}

/** The SQL condition for subtreeBounds on column `col` (named parameters @path, @lower, @upper). */
export function subtreeCondition(col: string): string {
  return `(${col} = @path OR (${col} >= @lower AND ${col} < @upper))`;
}

/**
 * The deepest path whose subtree (subtreeBounds) holds every one of `paths` (non-empty): for the
 * members of one collection, that collection. A batch look-up first asks whether that subtree
 * has any row at all, an index probe, before matching the paths one by one.
 */
export function commonSubtree(paths: readonly DavPath[]): DavPath {
  let common = paths[0];
  let below = common + '/';
  for (const path of paths) {
    if (common === ROOT || path === common || path.startsWith(below)) continue;
    while (!isSameOrInside(path, common)) common = parentOf(common) ?? ROOT;
    below = common + '/';
  }
  return common;
}
