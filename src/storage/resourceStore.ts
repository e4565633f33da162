/**
 * The resource store: the one seam between keepdav and the bytes it serves (issue 8, "Seams
 * first"; architecture.md "Seams"). Callers name resources by DavPath and kept bytes by key;
 * no host path crosses this interface, and what a file's identity is (FileStore: its inode) is
 * the store's business: callers get an opaque `ino` to compare and a derived tag (resourceStat.ts).
 *
 * Two kinds of bytes live behind it:
 * - the served tree, addressed by DavPath (RFC 4918 resources);
 * - kept bytes, the retained versions (semantics.md "Nothing is lost"), addressed by a key
 *   (`keptKeyOf(id)`, or `<key>/<member path>` for a file inside a kept tree), never reachable
 *   by URL. Retention is a storage operation: keeping a version, moving a resource out as a kept
 *   tree and putting it back are decided here, where symlinks and same-filesystem renames are known.
 *
 * Errors are the domain errors of storageErrors.ts (never an errno, never a host path): each
 * method says which. A DavPath that is not well formed (a `..` or `.` segment, NUL, `\`) throws
 * BadPathError; a key that is not well formed throws RangeError; a reserved (`.keepdav-`) segment
 * is hidden for reads and AccessDeniedError for writes. FileStore (fileStore.ts) is the
 * filesystem implementation; test/contract/resourceStore.contract.ts is what every one must pass.
 */
import type { Readable, Writable } from 'node:stream';
import type { DavPath } from '../paths/davPath';
import type { ContentDigests, DigestsNow } from './atomicWrite';
import type { FileDigests } from './storedFileDigests';
import type { Usage } from './diskUsage';
import type { MemberBatches } from './listCollection';
import type { ByteRange } from './readStream';
import type { ResourceStat, StatIdentity } from './resourceStat';

export type { ContentDigests, DigestsNow } from './atomicWrite';
export type { FileDigests } from './storedFileDigests';
export type { Usage } from './diskUsage';
export type { MemberBatches } from './listCollection';
export type { ByteRange } from './readStream';
export type { ResourceStat } from './resourceStat';

export interface AtomicWriteOptions {
  /** The body must have exactly this many bytes (IncompleteBodyError otherwise). */
  expectedLength?: number;
  /** The modification time to give the new content. */
  mtimeMs?: number;
  /** Called with the digests before the new content replaces the old (null: a large body not hashed on the way in); a throw stores nothing. */
  verify?: (digests: ContentDigests | null) => void;
  /**
   * What of a large body is hashed while it streams (the checksums a client claimed; 'none' when
   * absent): with 'none' its `digests` are null and readBackDigests() reads them later, with
   * 'sha1' its `digests.md5`.
   */
  digestsNow?: DigestsNow;
}

export interface AtomicWriteResult {
  stat: ResourceStat;
  /** True when there was no file at the path before. */
  created: boolean;
  /** SHA-1 and MD5 of the new content, computed while it streamed in: a large body's null with digestsNow 'none', its MD5 null with 'sha1'. */
  digests: ContentDigests | null;
}

/** What is kept under one key: a file, or a kept tree (a directory of files). */
export interface KeptFingerprint {
  size: number;
  mtimeMs: number;
  /** The opaque identity of the kept bytes (compares with ResourceStat.ino: a kept link shares it). */
  ino: number;
  isDirectory: boolean;
}

/** One file kept under a key: its own key and its path below the kept tree ("" for a kept file). */
export interface KeptFile {
  key: string;
  below: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * A file's bytes as the store opens them: a stream for any consumer, and sendTo(), which writes
 * them to `out` and ends it, the way an HTTP answer sends a file (storage/fileContent.ts: two
 * reused buffers). sendTo resolves when all is written or `out` closed first, rejects when a read
 * or write fails or the file holds fewer than `expected` bytes (then `out` is destroyed, never
 * ended short), and closes the file in every case. With `direct`, the bytes go that way instead.
 */
export interface FileBytes extends Readable {
  sendTo(out: Writable, expected: number, direct?: DirectSend | null): Promise<void>;
}

/**
 * A way to send bytes of an open file to `out` without reading them into memory (the HTTP edge's
 * sendfile, http/zeroCopySend.ts): the number of bytes sent (fewer than `length` when the file
 * ended first); 'closed' when the connection ended before all were sent (the client left or
 * stopped reading); 'unsupported' when nothing was sent because this file cannot go that way.
 * Rejects when the file cannot be read.
 */
export type DirectSend = (fd: number, offset: number, length: number) => Promise<number | 'closed' | 'unsupported'>;

/** Free and total bytes of a disk. */
export interface Space {
  free: number;
  total: number;
}

export interface ResourceStore {
  // ---- the served tree ----

  /** The resource at `path`, or null when it is missing or hidden. Throws AccessDeniedError. */
  stat(path: DavPath): Promise<ResourceStat | null>;

  /** The visible members of the collection `path`. Throws NotFoundError, NotACollectionError. */
  list(path: DavPath): Promise<ResourceStat[]>;

  /** The same members a batch at a time (bounded memory for huge collections). Throws as `list`, when opening. */
  listInBatches(path: DavPath, batchSize: number): Promise<MemberBatches>;

  /**
   * A stream of the file's bytes, or of `range` (inclusive; past the end yields what exists).
   * `expected`: the version the caller answers for (a stat it took of `path`); when the file
   * opened is not that one (replaced or changed since), throws ReplacedMeanwhileError and reads
   * nothing, so an answer's headers and body always describe the same bytes. Throws
   * NotFoundError, IsACollectionError, RangeError for a malformed range.
   */
  openRead(path: DavPath, range?: ByteRange, expected?: StatIdentity): Promise<FileBytes>;

  /** The whole content of a small file (at most `maxBytes`). `expected` and the errors as openRead. */
  readSmall(path: DavPath, maxBytes: number, expected?: StatIdentity): Promise<Buffer>;

  /**
   * The SHA-1 and MD5 of the file's bytes, read back while no large upload streams, with the
   * fingerprint (inode, size, mtime) it was read under; null when the file is missing, not a plain
   * file (a symbolic link is not followed), changed while it was read, or `signal` aborted. Never throws.
   */
  readBackDigests(path: DavPath, signal?: AbortSignal): Promise<FileDigests | null>;

  /**
   * Replaces (or creates) the file at `path` with `body`, atomically: a reader sees the old
   * content or the new, never a mix (architecture.md rule 8). Throws ParentMissingError,
   * IsACollectionError, AccessDeniedError, NoSpaceError, IncompleteBodyError; after a throw the old
   * content is untouched and the body is left paused, not destroyed.
   */
  writeAtomic(path: DavPath, body: NodeJS.ReadableStream, options?: AtomicWriteOptions): Promise<AtomicWriteResult>;

  /** Creates an empty file where nothing is (RFC 4918 §7.3). Throws AlreadyExistsError, ParentMissingError, AccessDeniedError, NoSpaceError. */
  createEmpty(path: DavPath): Promise<ResourceStat>;

  /** Creates a collection under an existing one (RFC 4918 §9.3.1). Throws as createEmpty. */
  makeCollection(path: DavPath): Promise<void>;

  /** Sets the modification time. Throws NotFoundError, AccessDeniedError. */
  setModifiedTime(path: DavPath, mtimeMs: number): Promise<ResourceStat>;

  /** Moves `src` (a file or a tree) to the absent `dst` at once (RFC 4918 §9.9). Throws NotFoundError, AlreadyExistsError, ParentMissingError, AccessDeniedError, NoSpaceError. */
  move(src: DavPath, dst: DavPath): Promise<void>;

  /** Copies `src` to the absent `dst` (a tree with depth 'infinity'), appearing when complete (RFC 4918 §9.8). Throws as move. */
  copy(src: DavPath, dst: DavPath, depth: '0' | 'infinity'): Promise<void>;

  /** Removes a file or a whole tree. Throws NotFoundError, AccessDeniedError (the root, a reserved name). */
  remove(path: DavPath): Promise<void>;

  /** RFC 4331 figures of the served tree's disk (used bytes may be cached). Throws AccessDeniedError. */
  usage(): Promise<Usage>;

  /** Free and total bytes of the served tree's disk, now. */
  space(): Promise<Space>;

  /** Writes, syncs and removes a small invisible file at the top of the tree (readiness). Throws the errno's error. */
  probeWritable(): Promise<void>;

  /**
   * Readies, before the first request, what writes need (the uploads directory, made and tried; the
   * space ballast). Never throws: a write finds what is wrong itself. `keptByCopy`: a trial hard
   * link from the root into the retained bytes was refused (another filesystem or mount), so every
   * version retained will be a full copy.
   */
  readyForWrites(): Promise<{ keptByCopy: boolean }>;

  /** Removes the temporaries of interrupted writes untouched for `olderThanMs`; returns how many went. */
  sweepTemporaries(olderThanMs: number, nowMs?: number): Promise<number>;

  // ---- kept bytes (retention) ----

  /** The key under which the version `id` is kept (ids start with 8 hex digits of time). */
  keptKeyOf(id: string): string;

  /**
   * Keeps the current bytes of the file at `path` under `key`, the served file staying where it
   * is (FileStore: a hard link; a copy only across disks). Through a symlink the real bytes are
   * kept, never a link to the link. Throws NotFoundError (no file), NoSpaceError.
   */
  keepVersion(path: DavPath, key: string): Promise<void>;

  /**
   * Moves the resource at `path` (a file or a whole tree) out of the served tree under `key`, at
   * once. A symlink is only removed (what it points to stays served): returns false then, true
   * when bytes were kept. Throws NotFoundError, AccessDeniedError (the root, a reserved name).
   */
  moveOutAsKept(path: DavPath, key: string): Promise<boolean>;

  /** Puts what moveOutAsKept or keepVersion kept under `key` back at the absent `path`. Throws AlreadyExistsError, ParentMissingError. */
  putBack(path: DavPath, key: string): Promise<void>;

  /** A stream of the kept file `key`, or null when it is missing (or a tree). */
  openKept(key: string): Promise<FileBytes | null>;

  /** What is kept under `key`, or null when nothing is. */
  keptFingerprint(key: string): Promise<KeptFingerprint | null>;

  /** The files kept under `key` (one for a file, every member of a tree). */
  keptFiles(key: string): Promise<KeptFile[]>;

  /** The keys of every kept file, one at a time (maintenance walks them). */
  allKeptFiles(): AsyncIterable<string>;

  /** Frees what is kept under `key`. */
  removeKept(key: string): Promise<void>;

  /**
   * Frees every kept file no key in `known` names (directly, or as the kept tree it lies in),
   * half-kept copies and empty directories. Returns how many entries went.
   */
  sweepKept(known: ReadonlySet<string>): Promise<number>;

  /** Free and total bytes of the disk holding the kept bytes. */
  keptSpace(): Promise<Space>;

  /**
   * The space ballast in the state directory (spaceBallast.ts): `release` gives it up when a write
   * that frees space met a full disk (true: space was freed, try once more); `ensure` lays it down
   * again where it fits; `missing` is what pruning must free beyond the reserve for that.
   */
  releaseSpaceBallast(): Promise<boolean>;
  ensureSpaceBallast(): Promise<boolean>;
  spaceBallastMissingBytes(): number;
}
