/**
 * Domain errors of the storage layer. They name the resource by its DavPath only (never a host
 * path), so a message may be shown to a client. The HTTP methods decide the status in context
 * (architecture.md rule 2): a missing parent is 409 on PUT but the same NotFoundError is 404 on GET.
 */
import { constants as osConstants } from 'node:os';
import type { DavPath } from '../paths/davPath';

export class StorageError extends Error {
  constructor(readonly path: DavPath, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The resource does not exist (or is hidden: reserved name, symlink out of the root). */
export class NotFoundError extends StorageError {}
/** The target of a create, copy or move already exists. */
export class AlreadyExistsError extends StorageError {}
/** The parent collection does not exist, or is a file (RFC 4918 §9.3.1, §9.7.1: 409). */
export class ParentMissingError extends StorageError {}
/** A collection was expected (listing a file). */
export class NotACollectionError extends StorageError {}
/** A file was expected (reading or writing over a collection). */
export class IsACollectionError extends StorageError {}
/** ENOSPC, EDQUOT, EFBIG: the write does not fit (RFC 4918 §11.5: 507). */
export class NoSpaceError extends StorageError {}
/** EACCES, EPERM, EROFS, a reserved name, a symlink escaping the root, a copy into itself. */
export class AccessDeniedError extends StorageError {}
/** The upload ended early, failed, or exceeded its expected length. */
export class IncompleteBodyError extends StorageError {}
/**
 * A tree to be taken away (DELETE, or a COPY/MOVE target replaced) holds a file whose path would be
 * longer than the system allows (ENAMETOOLONG) once moved among the retained versions: it could
 * not be listed or restored, so nothing is taken away.
 */
export class TooDeepToKeepError extends StorageError {}
/** The file opened for reading is not the version the caller stat'ed: replaced (or changed) in between; nothing was read. */
export class ReplacedMeanwhileError extends StorageError {}

/**
 * What the failed call was doing, which decides how ENOENT and ENOTDIR read:
 * - 'read': the named resource itself is missing => NotFoundError;
 * - 'create': the name was being created, so a missing component is its parent => ParentMissingError.
 */
export type ErrnoContext = 'read' | 'create';

/** errno names by number, for errors whose `code` Node could not name (EDQUOT on Linux). */
const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name] as [number, string]),
);

function errnoName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errno } = err as NodeJS.ErrnoException;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  if (typeof errno === 'number') return ERRNO_NAMES.get(Math.abs(errno));
  return undefined;
}

/**
 * The one errno mapper (architecture.md rule 2). Returns the domain error for a filesystem error
 * met while working on `path`; a StorageError is returned as it is; an error with an errno not in
 * the table (EIO, EMFILE, EXDEV, EBUSY, ...) or with none is returned unchanged (it becomes a 500).
 * Never throws.
 *
 * | errno | 'read' | 'create' |
 * |---|---|---|
 * | ENOENT, ENOTDIR | NotFound | ParentMissing |
 * | ELOOP, ENAMETOOLONG | NotFound | AccessDenied |
 * | EEXIST, ENOTEMPTY | AlreadyExists | AlreadyExists |
 * | EISDIR | IsACollection | IsACollection |
 * | ENOSPC, EDQUOT, EFBIG | NoSpace | NoSpace |
 * | EACCES, EPERM, EROFS | AccessDenied | AccessDenied |
 */
export function storageErrorFromErrno(err: unknown, path: DavPath, context: ErrnoContext = 'read'): Error {
  if (err instanceof StorageError) return err;
  const code = errnoName(err);
  const options = { cause: err };
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return context === 'create'
        ? new ParentMissingError(path, `${path}: parent collection missing (${code})`, options)
        : new NotFoundError(path, `${path}: not found (${code})`, options);
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return context === 'create'
        ? new AccessDeniedError(path, `${path}: name refused (${code})`, options)
        : new NotFoundError(path, `${path}: not found (${code})`, options);
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new AlreadyExistsError(path, `${path}: already exists (${code})`, options);
    case 'EISDIR':
      return new IsACollectionError(path, `${path}: is a collection (${code})`, options);
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return new NoSpaceError(path, `${path}: insufficient storage (${code})`, options);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new AccessDeniedError(path, `${path}: access denied (${code})`, options);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/** True for ENOENT and ENOTDIR: nothing by that name (or an ancestor is a file). */
export function isMissingErrno(err: unknown): boolean {
  const code = errnoName(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The errno name of a filesystem error, if it has one (exported for the storage modules). */
export function errnoOf(err: unknown): string | undefined {
  return errnoName(err);
}

/**
 * True for every way "no space" reaches us, mapped once (RFC 4918 §11.5: 507): ENOSPC, EDQUOT and
 * EFBIG from the filesystem (the served tree or the state directory), SQLITE_FULL from the state
 * database. The caller has left nothing half-done; when space returns, the next write works.
 */
export function isNoSpace(err: unknown): boolean {
  if (err instanceof NoSpaceError) return true;
  const code = errnoName(err);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return true;
  const sqliteCode = (err as { code?: unknown } | null)?.code;
  return sqliteCode === 'SQLITE_FULL';
}
