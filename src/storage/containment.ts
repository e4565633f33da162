/**
 * Containment of DavPaths under the served root (architecture.md rule 9).
 *
 * Every host path is the root's realpath joined with the checked segments of a DavPath. A symlink
 * is followed only when its realpath stays inside the root and names nothing reserved; otherwise
 * the name behaves as missing for reads and is refused (AccessDeniedError) for writes.
 *
 * Cost: reads check the parent directory with one realpath(3) call whose positive answer is cached
 * for `cacheMs` per DavPath (so a warm `stat` is a single lstat); writes always realpath their
 * parent afresh, since a write escaping the root does real harm and the fsync dwarfs the cost.
 * Only our own move/remove can turn a checked directory into a symlink (by moving one in), and
 * they clear the cache; the TTL bounds what a change made outside the server can slip past.
 */
import type { Stats } from 'node:fs';
import { lstatSync, realpathSync } from 'node:fs';
import { inline, inlineAllowed } from './inlineCalls';
import { lstat, realpath, stat } from 'node:fs/promises';
import { BadPathError, baseName, parentOf, ROOT, type DavPath } from '../paths/davPath';
import { AccessDeniedError, errnoOf, isMissingErrno, storageErrorFromErrno } from './storageErrors';

/** Names starting with this are ours (temp files, state): invisible and never writable by URL. */
export const RESERVED_PREFIX = '.keepdav-';

/** A structurally valid DavPath: "/" or "/seg(/seg)*", no NUL or "\" in a segment. */
const DAV_PATH = /^\/(?:[^/\u0000\\]+(?:\/[^/\u0000\\]+)*)?$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** True when a segment of `path` (a DavPath or a host path suffix) is a reserved name. */
export function hasReservedSegment(path: string): boolean {
  return path.startsWith(RESERVED_PREFIX) || path.includes('/' + RESERVED_PREFIX);
}

/** True when `name` (one directory entry) is reserved. */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

/** Throws BadPathError unless `path` is a well-formed DavPath (callers are meant to pass one). */
export function assertDavPath(path: DavPath): void {
  if (!DAV_PATH.test(path) || DOT_SEGMENT.test(path)) throw new BadPathError(`not a DavPath: ${JSON.stringify(path)}`);
}

/** Which error a missing parent raises: ParentMissing when creating, NotFound when acting on an existing name. */
export type MissingParent = 'ParentMissing' | 'NotFound';

/** What an lstat found at a write target, symlinks resolved. */
export type WriteTarget =
  | { kind: 'missing'; host: string }
  | { kind: 'dangling-link'; host: string }
  | { kind: 'file' | 'collection'; host: string; stats: Stats; viaLink: boolean };

export class Containment {
  private readonly checkedDirs = new Map<DavPath, number>();
  /** Bumped by invalidate(), so a check that began before a move cannot cache its stale answer. */
  private generation = 0;
  /** The root as a prefix for joining "/seg" paths ("" when the root is "/"). */
  private readonly prefix: string;

  constructor(
    readonly root: string,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.prefix = root === '/' ? '' : root;
  }

  /** The lexical host path of `path` under the root (no filesystem access). Throws BadPathError. */
  hostPathOf(path: DavPath): string {
    assertDavPath(path);
    return path === ROOT ? this.root : this.prefix + path;
  }

  /** True when the real host path `real` is the root or inside it, and names nothing reserved. */
  isVisibleRealPath(real: string): boolean {
    if (real === this.root) return true;
    if (!real.startsWith(this.prefix + '/')) return false;
    return !hasReservedSegment(real.slice(this.prefix.length));
  }

  /** Forgets every cached directory decision (after a move or remove changed the tree). */
  invalidate(): void {
    this.generation++;
    this.checkedDirs.clear();
  }

  /**
   * For reads: true when the directory named `dir` exists and its realpath is visible.
   * Missing or escaping => false. Throws AccessDeniedError on EACCES and the like.
   */
  async isReadableDir(dir: DavPath): Promise<boolean> {
    if (dir === ROOT) return true;
    const expires = this.checkedDirs.get(dir);
    if (expires !== undefined && expires > this.now()) return true;
    const generation = this.generation;
    const real = await this.realpathOrNull(this.prefix + dir, dir);
    if (real === null || !this.isVisibleRealPath(real)) return false;
    if (this.cacheMs > 0 && generation === this.generation) {
      if (this.checkedDirs.size >= 4096) this.checkedDirs.clear();
      this.checkedDirs.set(dir, this.now() + this.cacheMs);
    }
    return true;
  }

  /**
   * For reads: the host path to open and its stats (symlinks followed), or null when the name is
   * missing, hidden (reserved, escaping symlink, dangling symlink) or neither file nor directory.
   * Throws the mapped error for anything else (EACCES => AccessDeniedError).
   */
  async resolveForRead(path: DavPath): Promise<{ host: string; stats: Stats } | null> {
    assertDavPath(path);
    if (path === ROOT) return { host: this.root, stats: await this.fsCall(() => stat(this.root), path) };
    if (hasReservedSegment(path)) return null;
    if (!(await this.isReadableDir(parentOf(path)!))) return null;
    return this.resolveEntry(this.prefix + path, path);
  }

  /**
   * For reads, once the directory holding it is known to be contained: the entry at `host`
   * (named `path`) with symlinks followed, or null as for resolveForRead. One lstat when the
   * entry is no symlink; a symlink adds a realpath and a stat of the target.
   */
  async resolveEntry(host: string, path: DavPath): Promise<{ host: string; stats: Stats } | null> {
    let stats = await this.lstatOrNull(host, path);
    if (stats?.isSymbolicLink()) {
      const real = await this.realpathOrNull(host, path);
      if (real === null || !this.isVisibleRealPath(real)) return null;
      host = real;
      stats = await this.lstatOrNull(real, path);
    }
    if (stats === null || !(stats.isFile() || stats.isDirectory())) return null;
    return { host, stats };
  }

  /**
   * For writes: the realpath of `path`'s parent directory, checked afresh.
   * Throws AccessDeniedError for a reserved name, the root, or a parent outside the root;
   * ParentMissingError when the parent does not exist (or `missingParent` says otherwise).
   */
  async parentForWrite(path: DavPath, missingParent: MissingParent = 'ParentMissing'): Promise<string> {
    assertDavPath(path);
    if (path === ROOT) throw new AccessDeniedError(path, '/: the root cannot be written');
    if (hasReservedSegment(path)) throw new AccessDeniedError(path, `${path}: reserved name`);
    const parent = parentOf(path)!;
    if (parent === ROOT) return this.root;
    let real: string;
    try {
      real = await realpathOf(this.prefix + parent);
    } catch (err) {
      const context = missingParent === 'ParentMissing' ? 'create' : 'read';
      if (errnoOf(err) === 'ELOOP') throw new AccessDeniedError(path, `${path}: symlink loop`, { cause: err });
      throw storageErrorFromErrno(err, path, context);
    }
    if (!this.isVisibleRealPath(real)) throw new AccessDeniedError(path, `${path}: parent lies outside the root`);
    return real;
  }

  /**
   * For writes: what exists at `path` inside the (already checked) real parent directory.
   * A symlink resolving inside the root is reported as its target (viaLink); one resolving outside
   * (or to a reserved name) throws AccessDeniedError; a dangling one is reported as such.
   * A special file (FIFO, socket, device) throws AccessDeniedError. ENOTDIR (the parent is a file)
   * throws ParentMissingError, or NotFoundError when `missingParent` says so.
   */
  async inspectWriteTarget(path: DavPath, parentReal: string, missingParent: MissingParent = 'ParentMissing'): Promise<WriteTarget> {
    const host = childHostPath(parentReal, baseName(path));
    let stats: Stats;
    try {
      const found = await this.lstatOf(host);
      if (found === null) return { kind: 'missing', host };
      stats = found;
    } catch (err) {
      throw storageErrorFromErrno(err, path, missingParent === 'ParentMissing' ? 'create' : 'read');
    }
    let viaLink = false;
    let target = host;
    if (stats.isSymbolicLink()) {
      let real: string;
      try {
        real = await realpath(host);
      } catch (err) {
        if (isMissingErrno(err)) return { kind: 'dangling-link', host };
        throw new AccessDeniedError(path, `${path}: unresolvable symlink`, { cause: err });
      }
      if (!this.isVisibleRealPath(real)) throw new AccessDeniedError(path, `${path}: symlink leads outside the root`);
      stats = await this.fsCall(() => lstat(real), path);
      target = real;
      viaLink = true;
    }
    if (stats.isDirectory()) return { kind: 'collection', host: target, stats, viaLink };
    if (stats.isFile()) return { kind: 'file', host: target, stats, viaLink };
    throw new AccessDeniedError(path, `${path}: not a regular file or collection`);
  }

  /**
   * lstat: null for ENOENT, other errors thrown as they are; inline (inlineCalls.ts) unless paused.
   * Also while writes of ours are under way: a look-up that misses the kernel's name cache takes
   * the directory's lock, shared, and can wait for a create or rename of ours there, yet going
   * through the thread pool instead cost more: small PUTs over 4 interleaved rounds ran at 2,004
   * req/s and 671 µs of CPU each inline, 1,875 and 736 µs with the first look-up in the pool.
   */
  private lstatOf(host: string): Stats | null | Promise<Stats | null> {
    if (inlineAllowed()) return inline(() => lstatSync(host, { throwIfNoEntry: false })) ?? null;
    return lstat(host).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return null;
      throw err;
    });
  }

  private async lstatOrNull(host: string, path: DavPath): Promise<Stats | null> {
    try {
      return await this.lstatOf(host);
    } catch (err) {
      if (isHiddenErrno(err)) return null;
      throw storageErrorFromErrno(err, path);
    }
  }

  private async realpathOrNull(host: string, path: DavPath): Promise<string | null> {
    try {
      return await realpathOf(host);
    } catch (err) {
      if (isHiddenErrno(err)) return null;
      throw storageErrorFromErrno(err, path);
    }
  }

  private async fsCall<T>(call: () => Promise<T>, path: DavPath): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw storageErrorFromErrno(err, path);
    }
  }
}

/**
 * realpath(3) of a directory's path: inline (inlineCalls.ts) when allowed, since it walks names
 * that exist and are cached, taking no directory lock; through the thread pool otherwise.
 */
async function realpathOf(host: string): Promise<string> {
  return inlineAllowed() ? inline(() => realpathSync.native(host)) : realpath(host);
}

/** Errors after which a name simply does not exist for a reader. */
function isHiddenErrno(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG';
}

/** The host path of entry `name` in the host directory `dir`. */
export function childHostPath(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name;
}

const SLASH = Buffer.from('/');

/** The host path (as bytes) of entry `name` in the host directory `dir`. */
export function childHostBytes(dir: Buffer, name: Buffer): Buffer {
  return dir.length === 1 && dir[0] === 0x2f ? Buffer.concat([dir, name]) : Buffer.concat([dir, SLASH, name]);
}

/**
 * The name of a directory entry as a DavPath segment, or null when no URL can reach it:
 * a reserved name, bytes that are not UTF-8, or a "\" (which DavPath segments may not hold).
 */
export function addressableName(raw: Buffer): string | null {
  const name = raw.toString('utf8');
  if (name.includes('\\') || isReservedName(name)) return null;
  if (name.includes('\uFFFD') && !Buffer.from(name, 'utf8').equals(raw)) return null;
  return name;
}

/**
 * Whether a name a directory read gave as text (UTF-8 decoded) can be a DavPath segment: not
 * reserved, no "\", at most 255 bytes as UTF-8. Bytes that are not UTF-8 were decoded to U+FFFD,
 * so a name holding U+FFFD may name nothing reachable: listCollection.ts lists such a name only
 * when it exists written back as UTF-8, and only once. Each such byte grows to three as U+FFFD: a
 * name of a few dozen characters in another encoding (Shift-JIS, GBK, Latin-1) passes 255 bytes,
 * which no segment may (davPath.ts), and once made the listing of its whole folder fail.
 */
export function isAddressableText(name: string): boolean {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a name of at most 85 units is short enough.
  return !name.includes('\\') && !isReservedName(name) && (name.length <= 85 || Buffer.byteLength(name) <= 255);
}
