/**
 * Turns what a handler threw into a DavError. Handlers throw DavErrors for the conditions they
 * decide in context; parser and storage errors that reach this point get their generic status
 * here. Anything else is unexpected and becomes a bare 500 (null).
 */
import { DavError } from '../conditions/davError';
import * as dav from '../conditions/davErrors';
import { HeaderSyntaxError } from '../headers/headerSyntaxError';
import { XmlError } from '../xml/xmlError';
import { BadPathError } from '../paths/davPath';
import * as storage from '../storage/storageErrors';
import { LockConflictError } from '../locks/lockErrors';
import { OperationInProgressError } from '../concurrency/pathMutex';
import { MissingVersionContentError } from '../versions/restoreVersion';
import { StateUnavailableError } from '../state/postgres/stateUrl';
import { CommitOutstandingError } from '../concurrency/outstandingCommit';

/**
 * `hrefOf` gives a resource's href, with the trailing "/" when it is a collection; `requestHref`
 * names the request's resource where the error itself names none (a full state disk).
 */
export async function toDavError(err: unknown, hrefOf: (path: string) => Promise<string>, requestHref = '/'): Promise<DavError | null> {
  if (err instanceof DavError) return err;
  if (err instanceof HeaderSyntaxError) return new dav.BadRequestError(`malformed ${err.header} header: ${err.detail}`);
  if (err instanceof BadPathError) return new dav.BadRequestError(err.message);
  if (err instanceof XmlError) {
    switch (err.kind) {
      case 'too-large':
        return new dav.PayloadTooLargeError(err.message);
      case 'unprocessable':
        return new dav.UnprocessableBodyError(err.message);
      default:
        return new dav.BadRequestError(err.message);
    }
  }
  if (err instanceof OperationInProgressError) {
    const op = err.operation;
    return new dav.OperationInProgressError({ id: op.id, method: op.method, href: await hrefOf(op.path), startedAtMs: op.startedAtMs }, 2);
  }
  if (err instanceof MissingVersionContentError) return new dav.VersionContentMissingError(await hrefOf(err.path), err.id);
  if (err instanceof LockConflictError) return new dav.NoConflictingLockError(await hrefOf(err.conflicting.root));
  if (err instanceof storage.StorageError) {
    const href = await hrefOf(err.path);
    if (err instanceof storage.NotFoundError) return new dav.NotFoundError(href);
    if (err instanceof storage.ParentMissingError) return new dav.ParentMissingError(href);
    if (err instanceof storage.AlreadyExistsError) return new dav.ConflictError('already-exists', `${href} already exists`);
    if (err instanceof storage.NotACollectionError) return new dav.ConflictError('not-a-collection', `${href} is not a collection`);
    if (err instanceof storage.IsACollectionError) return new dav.ConflictError('is-a-collection', `${href} is a collection`);
    if (err instanceof storage.NoSpaceError) return new dav.InsufficientStorageError(href);
    if (err instanceof storage.AccessDeniedError) return new dav.ForbiddenError('access-denied', `access to ${href} is denied`);
    if (err instanceof storage.TooDeepToKeepError) {
      return new dav.ForbiddenError('too-deep-to-keep', `${href} holds a file whose path would be too long to be kept as a version (the system's limit); nothing was taken away: move its deepest folders to a shallower place first`);
    }
    if (err instanceof storage.IncompleteBodyError) return new dav.BadRequestError('the request body ended before Content-Length bytes or ran past it');
    if (err instanceof storage.ReplacedMeanwhileError) return new dav.FileBusyError(href, 1);
  }
  // The shared state database went away (--state postgres://): 503 + Retry-After, never 500.
  if (err instanceof StateUnavailableError) return new dav.StateUnavailableError(5);
  if (err instanceof CommitOutstandingError) return new dav.StateUnavailableError(5, err.operation.split(' ')[0]);
  // No space on the state disk (SQLITE_FULL, or ENOSPC keeping a version) is the same 507.
  if (storage.isNoSpace(err)) return new dav.InsufficientStorageError(requestHref);
  return null;
}
