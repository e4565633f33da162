import { constants as osConstants } from 'node:os';
import {
  AccessDeniedError, AlreadyExistsError, IsACollectionError, NoSpaceError, NotFoundError, ParentMissingError,
  StorageError, storageErrorFromErrno, type ErrnoContext,
} from '../../../src/storage/storageErrors';
import { errnoError } from './storageTestKit';

type ErrorClass = new (...args: never[]) => Error;

describe('storageErrorFromErrno', () => {
  const table: Array<[code: string, context: ErrnoContext, expected: ErrorClass]> = [
    ['ENOENT', 'read', NotFoundError],
    ['ENOENT', 'create', ParentMissingError],
    ['ENOTDIR', 'read', NotFoundError],
    ['ENOTDIR', 'create', ParentMissingError],
    ['ELOOP', 'read', NotFoundError],
    ['ELOOP', 'create', AccessDeniedError],
    ['ENAMETOOLONG', 'read', NotFoundError],
    ['ENAMETOOLONG', 'create', AccessDeniedError],
    ['EEXIST', 'create', AlreadyExistsError],
    ['ENOTEMPTY', 'create', AlreadyExistsError],
    ['EISDIR', 'read', IsACollectionError],
    ['ENOSPC', 'create', NoSpaceError],
    ['EDQUOT', 'create', NoSpaceError],
    ['EFBIG', 'create', NoSpaceError],
    ['EACCES', 'read', AccessDeniedError],
    ['EPERM', 'create', AccessDeniedError],
    ['EROFS', 'create', AccessDeniedError],
  ];

  test.each(table)('%s (%s) => %p', (code, context, expected) => {
    const cause = errnoError(code);
    const mapped = storageErrorFromErrno(cause, '/a/b', context);
    expect(mapped).toBeInstanceOf(expected);
    expect(mapped).toBeInstanceOf(StorageError);
    expect((mapped as StorageError).path).toBe('/a/b');
    expect(mapped.cause).toBe(cause);
    expect(mapped.name).toBe(expected.name);
  });

  test('the context defaults to read', () => {
    expect(storageErrorFromErrno(errnoError('ENOENT'), '/x')).toBeInstanceOf(NotFoundError);
  });

  test('an errno Node could not name is recognised by its number (EDQUOT)', () => {
    const err = errnoError('Unknown system error -122', -osConstants.errno.EDQUOT);
    expect(storageErrorFromErrno(err, '/q', 'create')).toBeInstanceOf(NoSpaceError);
  });

  test('messages name the DavPath, never the host path', () => {
    const err = errnoError('EACCES');
    err.path = '/srv/secret/root/a';
    const mapped = storageErrorFromErrno(err, '/a');
    expect(mapped.message).toContain('/a');
    expect(mapped.message).not.toContain('/srv/secret');
  });

  test.each(['EIO', 'EMFILE', 'EXDEV', 'EBUSY', 'EINVAL'])('unknown errno %s is returned unchanged', (code) => {
    const err = errnoError(code);
    expect(storageErrorFromErrno(err, '/a')).toBe(err);
  });

  test.each([
    ['an Error without code', new Error('boom')],
    ['an error with a lowercase code', Object.assign(new Error('x'), { code: 'enoent' })],
  ])('%s is returned unchanged', (_label, err) => {
    expect(storageErrorFromErrno(err, '/a')).toBe(err);
  });

  test('a StorageError passes through as it is', () => {
    const err = new AlreadyExistsError('/x', 'exists');
    expect(storageErrorFromErrno(err, '/other', 'create')).toBe(err);
  });

  test.each([[null], [undefined], ['a string'], [42]])('a non-Error %p becomes an Error', (thrown) => {
    const mapped = storageErrorFromErrno(thrown, '/a');
    expect(mapped).toBeInstanceOf(Error);
    expect(mapped).not.toBeInstanceOf(StorageError);
  });
});
