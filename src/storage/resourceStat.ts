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
  /**
   * The opaque identity of the bytes (FileStore: the inode): equal for the same content at the
   * same path, different after a write replaced it. Compare it; never interpret it. The state's
   * version records keep it in their `ino` column.
   */
  ino: number;
  /** The opaque identity of the volume `ino` is unique within (FileStore: the device). */
  dev: number;
}

/** The parts of a stat a file's version depends on (what the state records with an ETag). */
export interface Fingerprint {
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * The strong, quoted tag of a file's content derived from its fingerprint alone (RFC 9110 §8.8.3),
 * for a file whose version the state has no record of: it changes whenever the file does.
 */
export function derivedTag(f: Fingerprint): string {
  return `"${f.ino.toString(36)}-${f.size.toString(36)}-${base36(Math.round(f.mtimeMs * 1000))}"`;
}

const FIVE_DIGITS = 36 ** 5;

/**
 * `n.toString(36)` for an integer, in two small halves when it is large: V8 converts a number
 * beyond 2^31 to base 36 about three times slower (a listing makes one per file).
 */
function base36(n: number): string {
  if (n < FIVE_DIGITS) return n.toString(36);
  const high = Math.floor(n / FIVE_DIGITS);
  return high.toString(36) + (n - high * FIVE_DIGITS).toString(36).padStart(5, '0');
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

/** What unchangedSince compares: a resource's kind, identity, size and times. */
export type StatIdentity = Pick<ResourceStat, 'isCollection' | 'ino' | 'dev' | 'size' | 'mtimeMs' | 'ctimeMs'>;

/**
 * Whether `after`, a later stat of the same path, shows the resource of `before` unchanged: the
 * same kind and identity, size and times (a write, a replacement or a member added changes one).
 */
export function unchangedSince(before: StatIdentity, after: ResourceStat | null): boolean {
  return (
    after !== null &&
    after.isCollection === before.isCollection &&
    after.ino === before.ino &&
    after.dev === before.dev &&
    after.size === before.size &&
    after.mtimeMs === before.mtimeMs &&
    after.ctimeMs === before.ctimeMs
  );
}
