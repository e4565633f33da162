/**
 * FileStore: the filesystem implementation of ResourceStore (resourceStore.ts): the served tree
 * under one root directory, and the kept bytes of retained versions in another (under the state
 * directory), both given by the composition root. Callers speak DavPath and keys; host paths
 * never leave storage/. Errors are the domain errors of storageErrors.ts; a path that is not a
 * well-formed DavPath throws BadPathError.
 */
import type { Stats } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { baseName, ROOT, type DavPath } from '../paths/davPath';
import { fsyncDirectory, writeAtomically } from './atomicWrite';
import { assertDavPath, childHostPath, Containment, hasReservedSegment, type WriteTarget } from './containment';
import { copyResource } from './copyTree';
import { diskSpace, probeWrite, UsageMeter, type Usage } from './diskUsage';
import { KeptTransfers } from './keptTransfers';
import { listCollection, openMemberBatches, type MemberBatches } from './listCollection';
import { processListingCache, type ListingCache } from './listingCache';
import { openReadStream, readSmallFile, type ByteRange } from './readStream';
import { removeHostEntry } from './removeTree';
import type { AtomicWriteOptions, AtomicWriteResult, FileBytes, FileDigests, KeptFile, KeptFingerprint, ResourceStore, Space } from './resourceStore';
import { digestsOfStoredFile } from './storedFileDigests';
import { RetainedBytes } from './retainedBytes';
import { BALLAST_BYTES, BALLAST_FILE, SpaceBallast } from './spaceBallast';
import { toResourceStat, type ResourceStat, type StatIdentity } from './resourceStat';
import {
  AccessDeniedError, AlreadyExistsError, errnoOf, IsACollectionError, NotACollectionError, NotFoundError, storageErrorFromErrno,
} from './storageErrors';
import { sweepStaleTemporaries } from './sweepTemporaries';
import { UploadsDirectory } from './uploadsDirectory';

export type { ResourceStat } from './resourceStat';

export interface FileStoreOptions {
  /** This process alone writes the kept bytes (the owner of an embedded state): RetainedBytesOptions.soleWriter. */
  soleWriterOfKept?: boolean;
  /** How long a read trusts "this directory lies inside the root" (ms; default 1000; 0: never). */
  containmentCacheMs?: number;
  /** How long `usage().usedBytes` is cached (ms; default 30000, RFC 4331 figures need not be exact). */
  usageCacheMs?: number;
  /** The clock of both caches (tests inject one). */
  now?: () => number;
  /**
   * Where uploads' temporary files are made (uploadsDirectory.ts), used when a file in it can be
   * renamed into the root; without it, or when it cannot, beside their targets.
   */
  uploadsDir?: string;
  /** Where read-only listings are kept between requests (listingCache.ts); default the process's, null: none. */
  listingCache?: ListingCache | null;
}

export class FileStore implements ResourceStore {
  private readonly containment: Containment;
  private readonly meter: UsageMeter;
  private readonly kept: RetainedBytes;
  private readonly ballast: SpaceBallast;
  private readonly transfers: KeptTransfers;
  private readonly uploads: UploadsDirectory | null;
  private readonly listingCache: ListingCache | null;

  /** `root`: the real path of the served directory (for the composition root; never on the interface). */
  private constructor(readonly root: string, keptDir: string, options: FileStoreOptions) {
    const now = options.now ?? Date.now;
    this.containment = new Containment(root, options.containmentCacheMs ?? 1000, now);
    this.meter = new UsageMeter(root, options.usageCacheMs ?? 30_000, now);
    this.kept = new RetainedBytes(keptDir, { soleWriter: options.soleWriterOfKept });
    this.ballast = new SpaceBallast(join(dirname(keptDir), BALLAST_FILE));
    this.transfers = new KeptTransfers(this.containment, this.kept);
    this.uploads = options.uploadsDir === undefined ? null : new UploadsDirectory(options.uploadsDir, root);
    this.listingCache = options.listingCache === undefined ? processListingCache() : options.listingCache;
  }

  /**
   * A store serving the tree at the realpath of `rootDir`, keeping retained bytes in `keptDir`
   * (created when first needed; keep it on the same filesystem, so retention is a rename).
   * Throws NotFoundError when the root does not exist, NotACollectionError when it is no directory.
   */
  static async open(rootDir: string, keptDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    let root: string;
    try {
      root = await realpath(rootDir);
      if (!(await stat(root)).isDirectory()) throw new NotACollectionError(ROOT, 'the served root is not a directory');
    } catch (err) {
      throw storageErrorFromErrno(err, ROOT);
    }
    return new FileStore(root, keptDir, options);
  }

  /** The lexical host path of `path` (no check that it exists or stays inside). Throws BadPathError. */
  hostPathOf(path: DavPath): string {
    return this.containment.hostPathOf(path);
  }

  /** The resource at `path`, or null when it is missing or hidden. Throws AccessDeniedError (EACCES). */
  async stat(path: DavPath): Promise<ResourceStat | null> {
    const found = await this.containment.resolveForRead(path);
    return found === null ? null : toResourceStat(path, found.stats);
  }

  /**
   * The visible members of the collection at `path`, in directory order.
   * Throws NotFoundError (missing or hidden), NotACollectionError (a file).
   */
  async list(path: DavPath): Promise<ResourceStat[]> {
    assertDavPath(path);
    if (hasReservedSegment(path) || !(await this.containment.isReadableDir(path))) {
      throw new NotFoundError(path, `${path}: not found`);
    }
    return listCollection(this.containment, path, this.hostPathOf(path));
  }

  /**
   * The visible members of the collection at `path`, a batch at a time (PROPFIND and the HTML
   * index of huge collections). Throws as `list` does, when opening.
   */
  async listInBatches(path: DavPath, batchSize: number): Promise<MemberBatches> {
    assertDavPath(path);
    if (hasReservedSegment(path) || !(await this.containment.isReadableDir(path))) {
      throw new NotFoundError(path, `${path}: not found`);
    }
    return openMemberBatches(this.containment, path, this.hostPathOf(path), batchSize, this.listingCache);
  }

  /**
   * A stream of the file's bytes, or of bytes start..end inclusive (RFC 9110 §14.1.2 ranges; a
   * range past the end yields what exists). Throws NotFoundError, IsACollectionError, and
   * RangeError for a malformed range.
   */
  openRead(path: DavPath, range?: ByteRange, expected?: StatIdentity): Promise<FileBytes> {
    return openReadStream(this.containment, path, range, expected);
  }

  /** The whole content of a small file (at most `maxBytes`), for answers cheaper than a stream. */
  readSmall(path: DavPath, maxBytes: number, expected?: StatIdentity): Promise<Buffer> {
    return readSmallFile(this.containment, path, maxBytes, expected);
  }

  /** The SHA-1 and MD5 of the file's bytes, read back (storedFileDigests.ts); null when they cannot be. */
  async readBackDigests(path: DavPath, signal?: AbortSignal): Promise<FileDigests | null> {
    assertDavPath(path);
    if (path === ROOT || hasReservedSegment(path)) return null;
    return digestsOfStoredFile(this.containment.hostPathOf(path), signal);
  }

  /**
   * Replaces (or creates) the file at `path` atomically with `body` (architecture.md rule 8); a
   * symlink inside the root is written through. Throws ParentMissingError, IsACollectionError,
   * AccessDeniedError, NoSpaceError, IncompleteBodyError (body failed, or its length differs
   * from expectedLength); after a throw the old content is untouched and the body is left unpiped
   * and paused (never destroyed), so the caller can still answer.
   */
  async writeAtomic(path: DavPath, body: NodeJS.ReadableStream, opts: AtomicWriteOptions = {}): Promise<AtomicWriteResult> {
    assertDavPath(path);
    if (path === ROOT) throw new IsACollectionError(path, '/: is a collection');
    const dirReal = await this.containment.parentForWrite(path);
    const target = await this.containment.inspectWriteTarget(path, dirReal);
    if (target.kind === 'collection') throw new IsACollectionError(path, `${path}: is a collection`);
    const existing = target.kind === 'file' ? target : null;
    const dirHost = existing?.viaLink ? dirname(existing.host) : dirReal;
    const { digests, stats } = await writeAtomically({
      path, body, expectedLength: opts.expectedLength, mtimeMs: opts.mtimeMs, verify: opts.verify, digestsNow: opts.digestsNow,
      dirHost,
      tempDirHost: await this.uploads?.tempDirFor(dirHost),
      tempDirMissing: () => this.uploads?.lost(),
      renameRefused: () => this.uploads?.renameRefused(dirHost),
      targetHost: target.host,
      mode: existing?.stats.mode,
    });
    return { stat: toResourceStat(path, stats), created: existing === null, digests };
  }

  /**
   * Creates an empty file, failing if the name exists (a LOCK on an unmapped URL, RFC 4918 §7.3).
   * Throws AlreadyExistsError, ParentMissingError, AccessDeniedError, NoSpaceError.
   */
  async createEmpty(path: DavPath): Promise<ResourceStat> {
    assertDavPath(path);
    if (path === ROOT) throw new AlreadyExistsError(path, '/: already exists');
    const dirReal = await this.containment.parentForWrite(path);
    const host = childHostPath(dirReal, baseName(path));
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    const fh = await this.createExclusively(path, dirReal, () => open(host, flags, 0o666));
    let stats: Stats;
    try {
      stats = await fh.stat();
    } finally {
      await fh.close();
    }
    await fsyncDirectory(dirReal);
    return toResourceStat(path, stats);
  }

  /**
   * Creates a collection; its parent must exist (RFC 4918 §9.3.1: no intermediate collections).
   * Throws AlreadyExistsError, ParentMissingError, AccessDeniedError, NoSpaceError.
   */
  async makeCollection(path: DavPath): Promise<void> {
    assertDavPath(path);
    if (path === ROOT) throw new AlreadyExistsError(path, '/: already exists');
    const dirReal = await this.containment.parentForWrite(path);
    const host = childHostPath(dirReal, baseName(path));
    await this.createExclusively(path, dirReal, () => mkdir(host, 0o777));
    await fsyncDirectory(dirReal);
  }

  /** Runs an exclusive create; EEXIST on a dangling symlink removes the link and tries once more. */
  private async createExclusively<T>(path: DavPath, dirReal: string, create: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await create();
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw storageErrorFromErrno(err, path, 'create');
        const target = await this.containment.inspectWriteTarget(path, dirReal); // escaping link: AccessDenied
        if (target.kind !== 'dangling-link' || attempt > 0) throw new AlreadyExistsError(path, `${path}: already exists`, { cause: err });
        await this.unlinkDangling(path, target);
      }
    }
  }

  /**
   * Removes a file or a whole collection tree (a symlink is removed, not what it points to).
   * Removes as much as it can and throws the first failure; NotFoundError when missing,
   * AccessDeniedError for the root, a reserved name or a symlink leading outside.
   */
  async remove(path: DavPath): Promise<void> {
    assertDavPath(path);
    if (path === ROOT) throw new AccessDeniedError(path, '/: the root cannot be removed');
    const dirReal = await this.containment.parentForWrite(path, 'NotFound');
    const host = childHostPath(dirReal, baseName(path));
    const stats = await this.lstatExisting(host, path);
    if (stats.isSymbolicLink()) {
      const real = await realpath(host).catch(() => null);
      if (real !== null && !this.containment.isVisibleRealPath(real)) throw new AccessDeniedError(path, `${path}: symlink leads outside the root`);
    } else if (!stats.isFile() && !stats.isDirectory()) {
      throw new NotFoundError(path, `${path}: not found`);
    }
    try {
      await removeHostEntry(host, path, stats.isDirectory());
    } finally {
      this.containment.invalidate();
    }
    await fsyncDirectory(dirReal);
  }

  /**
   * Copies `src` to the absent `dst` (RFC 4918 §9.8): a file atomically; a collection with all
   * its members (depth 'infinity') or empty (depth '0'), appearing at once when complete.
   * Modification times and permission bits are kept. Throws NotFoundError (src),
   * AlreadyExistsError (dst exists), ParentMissingError, AccessDeniedError (reserved name,
   * escaping symlink, dst inside src), NoSpaceError.
   */
  async copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity'): Promise<void> {
    assertDavPath(dst);
    if (depth !== '0' && depth !== 'infinity') throw new RangeError(`bad depth ${String(depth)}`);
    const source = await this.containment.resolveForRead(src);
    if (source === null) throw new NotFoundError(src, `${src}: not found`);
    const dstDir = await this.destinationDir(dst);
    const target = await this.containment.inspectWriteTarget(dst, dstDir);
    if (target.kind === 'file' || target.kind === 'collection') throw new AlreadyExistsError(dst, `${dst}: already exists`);
    if (source.stats.isDirectory() && depth === 'infinity') {
      const srcReal = await realpath(source.host).catch((err: unknown) => { throw storageErrorFromErrno(err, src); });
      this.refuseInside(dstDir, srcReal, dst);
    }
    if (target.kind === 'dangling-link') await this.unlinkDangling(dst, target);
    await copyResource({
      srcHost: source.host, srcStats: source.stats, srcPath: src, dstDirHost: dstDir, dstHost: target.host, dstPath: dst,
      depth, mode: 'visible', isVisibleRealPath: (real) => this.containment.isVisibleRealPath(real),
    });
  }

  /**
   * Moves `src` to the absent `dst` by one atomic rename (RFC 4918 §9.9); across devices (EXDEV)
   * by an exact copy, then removal of the source. A symlink moves as the link itself.
   * Throws as copy does; AccessDeniedError for moving the root.
   */
  async move(src: DavPath, dst: DavPath): Promise<void> {
    assertDavPath(src);
    if (src === ROOT) throw new AccessDeniedError(src, '/: the root cannot be moved');
    const srcDir = await this.containment.parentForWrite(src, 'NotFound');
    const srcHost = childHostPath(srcDir, baseName(src));
    const srcStats = await this.lstatExisting(srcHost, src);
    if (srcStats.isSymbolicLink()) {
      const real = await realpath(srcHost).catch(() => null);
      if (real === null) throw new NotFoundError(src, `${src}: not found`);
      if (!this.containment.isVisibleRealPath(real)) throw new AccessDeniedError(src, `${src}: symlink leads outside the root`);
    } else if (!srcStats.isFile() && !srcStats.isDirectory()) {
      throw new NotFoundError(src, `${src}: not found`);
    }
    const dstDir = await this.destinationDir(dst);
    const target = await this.containment.inspectWriteTarget(dst, dstDir);
    if (target.kind === 'file' || target.kind === 'collection') throw new AlreadyExistsError(dst, `${dst}: already exists`);
    if (srcStats.isDirectory()) this.refuseInside(dstDir, srcHost, dst);
    if (target.kind === 'dangling-link') await this.unlinkDangling(dst, target);
    try {
      await this.renameOrCopy(src, srcHost, srcStats, dst, dstDir, target.host);
    } finally {
      this.containment.invalidate();
    }
    await fsyncDirectory(dstDir);
    if (srcDir !== dstDir) await fsyncDirectory(srcDir);
  }

  private async renameOrCopy(src: DavPath, srcHost: string, srcStats: Stats, dst: DavPath, dstDir: string, dstHost: string): Promise<void> {
    try {
      await rename(srcHost, dstHost);
      return;
    } catch (err) {
      if (errnoOf(err) !== 'EXDEV') throw storageErrorFromErrno(err, dst, 'create');
    }
    await copyResource({
      srcHost, srcStats, srcPath: src, dstDirHost: dstDir, dstHost, dstPath: dst, depth: 'infinity', mode: 'exact',
      isVisibleRealPath: () => true,
    });
    await removeHostEntry(srcHost, src, srcStats.isDirectory());
  }

  /** Sets the modification time (RFC 4918 §15.7 getlastmodified). Throws NotFoundError, AccessDeniedError. */
  async setModifiedTime(path: DavPath, mtimeMs: number): Promise<ResourceStat> {
    assertDavPath(path);
    if (!Number.isFinite(mtimeMs)) throw new RangeError(`mtimeMs must be finite, got ${mtimeMs}`);
    let host = this.containment.root;
    if (path !== ROOT) {
      const dirReal = await this.containment.parentForWrite(path, 'NotFound');
      const target = await this.containment.inspectWriteTarget(path, dirReal, 'NotFound');
      if (target.kind === 'missing' || target.kind === 'dangling-link') throw new NotFoundError(path, `${path}: not found`);
      host = target.host;
    }
    try {
      await utimes(host, Date.now() / 1000, mtimeMs / 1000);
    } catch (err) {
      throw storageErrorFromErrno(err, path);
    }
    return this.statHost(host, path);
  }

  /** RFC 4331 figures: statfs for the space available; used bytes under the root, cached. */
  usage(): Promise<Usage> {
    return this.meter.usage();
  }

  space(): Promise<Space> {
    return diskSpace(this.root);
  }

  probeWritable(): Promise<void> {
    return probeWrite(this.root);
  }

  async readyForWrites(): Promise<{ keptByCopy: boolean }> {
    await this.uploads?.ready();
    // Only where it leaves as much free again: a start on a full disk (which gave it up) must not
    // take back at once the room the start itself needs.
    await this.ballast.ensure(BALLAST_BYTES);
    return { keptByCopy: !(await this.kept.linksFrom(this.root)) };
  }

  async sweepTemporaries(olderThanMs: number, nowMs?: number): Promise<number> {
    const inTree = await sweepStaleTemporaries(this.root, olderThanMs, nowMs);
    return inTree + (this.uploads === null ? 0 : await sweepStaleTemporaries(this.uploads.host, olderThanMs, nowMs));
  }

  // ---- kept bytes: retention as storage operations (keptTransfers.ts, retainedBytes.ts) ----

  keptKeyOf(id: string): string {
    return this.kept.keyOf(id);
  }

  keepVersion(path: DavPath, key: string): Promise<void> {
    return this.transfers.keepVersion(path, key);
  }

  moveOutAsKept(path: DavPath, key: string): Promise<boolean> {
    return this.transfers.moveOutAsKept(path, key);
  }

  putBack(path: DavPath, key: string): Promise<void> {
    return this.transfers.putBack(path, key);
  }

  openKept(key: string): Promise<FileBytes | null> {
    return this.kept.open(key);
  }

  keptFingerprint(key: string): Promise<KeptFingerprint | null> {
    return this.kept.fingerprint(key);
  }

  keptFiles(key: string): Promise<KeptFile[]> {
    return this.kept.files(key);
  }

  allKeptFiles(): AsyncIterable<string> {
    return this.kept.allFiles();
  }

  removeKept(key: string): Promise<void> {
    return this.kept.remove(key);
  }

  sweepKept(known: ReadonlySet<string>): Promise<number> {
    return this.kept.sweep(known);
  }

  keptSpace(): Promise<Space> {
    return this.kept.filesystemSpace();
  }

  releaseSpaceBallast(): Promise<boolean> {
    return this.ballast.release();
  }

  ensureSpaceBallast(): Promise<boolean> {
    return this.ballast.ensure();
  }

  spaceBallastMissingBytes(): number {
    return this.ballast.missingBytes();
  }

  /** The real parent directory of a copy/move destination; the root is refused as existing. */
  private async destinationDir(dst: DavPath): Promise<string> {
    if (dst === ROOT) throw new AlreadyExistsError(dst, '/: already exists');
    return this.containment.parentForWrite(dst);
  }

  /** Throws AccessDeniedError when the host directory `dstDir` is `srcDir` or lies inside it. */
  private refuseInside(dstDir: string, srcDir: string, dst: DavPath): void {
    if (dstDir === srcDir || dstDir.startsWith(srcDir + '/')) {
      throw new AccessDeniedError(dst, `${dst}: the destination lies inside the source`);
    }
  }

  private async unlinkDangling(path: DavPath, target: WriteTarget): Promise<void> {
    await unlink(target.host).catch((err: unknown) => {
      if (errnoOf(err) !== 'ENOENT') throw storageErrorFromErrno(err, path, 'create');
    });
  }

  private async lstatExisting(host: string, path: DavPath): Promise<Stats> {
    try {
      return await lstat(host);
    } catch (err) {
      throw storageErrorFromErrno(err, path);
    }
  }

  private async statHost(host: string, path: DavPath): Promise<ResourceStat> {
    try {
      return toResourceStat(path, await lstat(host));
    } catch (err) {
      throw storageErrorFromErrno(err, path);
    }
  }
}
