import type { Stats } from 'node:fs';
import type { DavPath } from '../paths/davPath';

/** What the layers above may know of one resource. */
export interface ResourceStat {
  path: DavPath;
  isCollection: boolean;
  /** Bytes of a file; 0 for a collection. */
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  ino: number;
  dev: number;
}

/** The ResourceStat of `stats` (symlinks already followed) found for `path`. */
export function toResourceStat(path: DavPath, stats: Stats): ResourceStat {
  const isCollection = stats.isDirectory();
  return {
    path,
    isCollection,
    size: isCollection ? 0 : stats.size,
    mtimeMs: stats.mtimeMs,
    ctimeMs: stats.ctimeMs,
    birthtimeMs: stats.birthtimeMs,
    ino: stats.ino,
    dev: stats.dev,
  };
}
