import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
// The real module object (a namespace import would be a frozen copy jest cannot spy on).
import fsPromises = require('node:fs/promises');
import { join } from 'node:path';
import { FileStore } from '../../../src/storage/fileStore';
import { beginWrite, writesInFlight } from '../../../src/storage/writesInFlight';
import {
  AccessDeniedError, AlreadyExistsError, NotFoundError, ParentMissingError,
} from '../../../src/storage/storageErrors';
import { errnoError, freshDir, removeDir, snapshot, tempFilesUnder, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let store: FileStore;

beforeAll(async () => {
  dir = freshDir('tree');
  store = await FileStore.open(dir, UNUSED_KEPT_DIR);
});
afterAll(() => removeDir(dir));
afterEach(() => jest.restoreAllMocks());

let counter = 0;
/** A fresh collection holding a small tree with known mtimes; returns its DavPath. */
function treeFixture(): string {
  const c = `/t${++counter}`;
  const host = join(dir, c);
  mkdirSync(join(host, 'src/sub/deeper'), { recursive: true });
  writeFileSync(join(host, 'src/one.txt'), 'one');
  writeFileSync(join(host, 'src/sub/two.txt'), 'two two');
  writeFileSync(join(host, 'src/sub/deeper/three.bin'), Buffer.from([3, 3, 3]));
  writeFileSync(join(host, 'src/sub/.keepdav-tmp-0011'), 'half an upload');
  chmodSync(join(host, 'src/one.txt'), 0o600);
  utimesSync(join(host, 'src/one.txt'), 1_500_000_000, 1_500_000_000.5);
  utimesSync(join(host, 'src/sub/two.txt'), 1_400_000_000, 1_400_000_000);
  utimesSync(join(host, 'src/sub/deeper/three.bin'), 1_300_000_000, 1_300_000_000);
  utimesSync(join(host, 'src/sub/deeper'), 1_200_000_000, 1_200_000_000);
  utimesSync(join(host, 'src/sub'), 1_100_000_000, 1_100_000_000);
  utimesSync(join(host, 'src'), 1_000_000_000, 1_000_000_000);
  return c;
}

const TREE = { 'one.txt': 'one', sub: 'dir', 'sub/deeper': 'dir', 'sub/deeper/three.bin': '\u0003\u0003\u0003', 'sub/two.txt': 'two two' };
const MTIMES: Record<string, number> = {
  '': 1_000_000_000_000, 'one.txt': 1_500_000_000_500, sub: 1_100_000_000_000, 'sub/two.txt': 1_400_000_000_000,
  'sub/deeper': 1_200_000_000_000, 'sub/deeper/three.bin': 1_300_000_000_000,
};

function expectMtimes(hostDir: string): void {
  for (const [rel, mtimeMs] of Object.entries(MTIMES)) {
    expect([rel, Math.round(statSync(join(hostDir, rel)).mtimeMs)]).toEqual([rel, mtimeMs]);
  }
}

describe('remove', () => {
  test('removes a file', async () => {
    const c = treeFixture();
    await store.remove(`${c}/src/one.txt`);
    expect(existsSync(join(dir, c, 'src/one.txt'))).toBe(false);
  });

  test('removes a whole tree, temp files inside included', async () => {
    const c = treeFixture();
    await store.remove(`${c}/src`);
    expect(snapshot(join(dir, c), true)).toEqual({});
  });

  test('removes a symlink, not what it points to', async () => {
    const c = treeFixture();
    symlinkSync(join(dir, c, 'src'), join(dir, c, 'link'));
    await store.remove(`${c}/link`);
    expect(existsSync(join(dir, c, 'link'))).toBe(false);
    expect(snapshot(join(dir, c, 'src'))).toEqual(TREE);
  });

  test.each([
    ['a missing name', (c: string) => `${c}/none`, NotFoundError],
    ['a name under a missing collection', (c: string) => `${c}/none/x`, NotFoundError],
    ['the root', () => '/', AccessDeniedError],
    ['a reserved name', (c: string) => `${c}/src/sub/.keepdav-tmp-0011`, AccessDeniedError],
  ])('%s => %p', async (_label, pathIn, expected) => {
    const c = treeFixture();
    await expect(store.remove(pathIn(c))).rejects.toBeInstanceOf(expected);
    expect(snapshot(join(dir, c, 'src'))).toEqual(TREE);
  });

  test('removes as much as it can and throws the first failure', async () => {
    const c = treeFixture();
    const real = fsPromises.unlink;
    jest.spyOn(fsPromises, 'unlink').mockImplementation(async (p) => {
      if (String(p).endsWith('two.txt')) throw errnoError('EACCES');
      return real(p);
    });
    const failure = await store.remove(`${c}/src`).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AccessDeniedError);
    expect((failure as AccessDeniedError).path).toBe(`${c}/src/sub/two.txt`);
    expect(snapshot(join(dir, c), true)).toEqual({ src: 'dir', 'src/sub': 'dir', 'src/sub/two.txt': 'two two' });
  });

  test('a failure in an early batch is still the one thrown', async () => {
    const c = `/t${++counter}`;
    mkdirSync(join(dir, c, 'many'), { recursive: true });
    const names = Array.from({ length: 40 }, (_, i) => `file-${String(i).padStart(2, '0')}`);
    for (const name of names) writeFileSync(join(dir, c, 'many', name), name);
    const real = fsPromises.unlink;
    jest.spyOn(fsPromises, 'unlink').mockImplementation(async (p) => {
      if (String(p).endsWith('file-00')) throw errnoError('EPERM');
      return real(p);
    });
    await expect(store.remove(`${c}/many`)).rejects.toMatchObject({ name: 'AccessDeniedError', path: `${c}/many/file-00` });
    expect(snapshot(join(dir, c, 'many'))).toEqual({ 'file-00': 'file-00' });
  });
});

describe('copy', () => {
  test('copies a tree with contents, modes and mtimes, leaving out reserved names', async () => {
    const c = treeFixture();
    await store.copy(`${c}/src`, `${c}/dst`, 'infinity');
    expect(snapshot(join(dir, c, 'dst'), true)).toEqual(TREE);
    expectMtimes(join(dir, c, 'dst'));
    expect(statSync(join(dir, c, 'dst/one.txt')).mode & 0o777).toBe(0o600);
    expect(snapshot(join(dir, c, 'src'))).toEqual(TREE);
    expect(tempFilesUnder(join(dir, c)).filter((p) => !p.startsWith('src/'))).toEqual([]);
  });

  test('depth 0 on a collection makes an empty collection', async () => {
    const c = treeFixture();
    await store.copy(`${c}/src`, `${c}/dst`, '0');
    expect(snapshot(join(dir, c, 'dst'), true)).toEqual({});
    expect(Math.round(statSync(join(dir, c, 'dst')).mtimeMs)).toBe(MTIMES['']);
  });

  test('copies one file with its mtime, depth notwithstanding', async () => {
    const c = treeFixture();
    await store.copy(`${c}/src/one.txt`, `${c}/copy.txt`, '0');
    expect(readFileSync(join(dir, c, 'copy.txt'), 'utf8')).toBe('one');
    expect(Math.round(statSync(join(dir, c, 'copy.txt')).mtimeMs)).toBe(MTIMES['one.txt']);
  });

  test.each([
    ['an existing file', (c: string) => [`${c}/src/one.txt`, `${c}/src/sub/two.txt`], AlreadyExistsError],
    ['an existing collection', (c: string) => [`${c}/src/sub`, `${c}/src`], AlreadyExistsError],
    ['the root as destination', (c: string) => [`${c}/src`, '/'], AlreadyExistsError],
    ['a missing source', (c: string) => [`${c}/none`, `${c}/x`], NotFoundError],
    ['a reserved source', (c: string) => [`${c}/src/sub/.keepdav-tmp-0011`, `${c}/x`], NotFoundError],
    ['a reserved destination', (c: string) => [`${c}/src/one.txt`, `${c}/.keepdav-x`], AccessDeniedError],
    ['a missing destination parent', (c: string) => [`${c}/src/one.txt`, `${c}/none/x`], ParentMissingError],
    ['a destination inside the source', (c: string) => [`${c}/src`, `${c}/src/sub/copy`], AccessDeniedError],
    ['a destination equal to the source', (c: string) => [`${c}/src`, `${c}/src`], AlreadyExistsError],
  ])('refuses %s', async (_label, pathsIn, expected) => {
    const c = treeFixture();
    const before = snapshot(join(dir, c), true);
    const [src, dst] = pathsIn(c);
    await expect(store.copy(src, dst, 'infinity')).rejects.toBeInstanceOf(expected);
    expect(snapshot(join(dir, c), true)).toEqual(before);
  });

  test('a failure midway leaves no partial tree and no temp entry', async () => {
    const c = treeFixture();
    const real = fsPromises.copyFile;
    jest.spyOn(fsPromises, 'copyFile').mockImplementation(async (s, d, mode) => {
      if (String(s).endsWith('three.bin')) throw errnoError('ENOSPC');
      return real(s, d, mode);
    });
    await expect(store.copy(`${c}/src`, `${c}/dst`, 'infinity')).rejects.toMatchObject({ name: 'NoSpaceError' });
    expect(Object.keys(snapshot(join(dir, c), true)).filter((p) => !p.startsWith('src'))).toEqual([]);
  });

  test('follows a symlink that stays inside, copying the content', async () => {
    const c = treeFixture();
    symlinkSync('../one.txt', join(dir, c, 'src/sub/alias'));
    await store.copy(`${c}/src/sub`, `${c}/dst`, 'infinity');
    expect(readFileSync(join(dir, c, 'dst/alias'), 'utf8')).toBe('one');
    expect(statSync(join(dir, c, 'dst/alias')).isFile()).toBe(true);
  });

  test('a symlink back up the tree does not make the copy endless', async () => {
    const c = treeFixture();
    symlinkSync('..', join(dir, c, 'src/sub/loop'));
    await store.copy(`${c}/src`, `${c}/dst`, 'infinity');
    expect(snapshot(join(dir, c, 'dst'))).toEqual(TREE);
  });
});

describe('move', () => {
  test('moves a tree by rename: same inodes, mtimes kept, temp files travel', async () => {
    const c = treeFixture();
    const ino = statSync(join(dir, c, 'src/sub/two.txt')).ino;
    await store.move(`${c}/src`, `${c}/moved`);
    expect(existsSync(join(dir, c, 'src'))).toBe(false);
    expect(snapshot(join(dir, c, 'moved'))).toEqual(TREE);
    expect(statSync(join(dir, c, 'moved/sub/two.txt')).ino).toBe(ino);
    expect(existsSync(join(dir, c, 'moved/sub/.keepdav-tmp-0011'))).toBe(true);
    expectMtimes(join(dir, c, 'moved'));
  });

  test('moves a file into another collection', async () => {
    const c = treeFixture();
    await store.move(`${c}/src/one.txt`, `${c}/src/sub/deeper/one.txt`);
    expect(readFileSync(join(dir, c, 'src/sub/deeper/one.txt'), 'utf8')).toBe('one');
    expect(existsSync(join(dir, c, 'src/one.txt'))).toBe(false);
  });

  test('across devices (EXDEV) it copies exactly, then removes the source', async () => {
    const c = treeFixture();
    symlinkSync('one.txt', join(dir, c, 'src/rel-link'));
    utimesSync(join(dir, c, 'src'), 1_000_000_000, 1_000_000_000);
    const real = fsPromises.rename;
    const spy = jest.spyOn(fsPromises, 'rename').mockImplementation(async (from, to) => {
      if (String(from).endsWith('/src')) throw errnoError('EXDEV');
      return real(from, to);
    });
    await store.move(`${c}/src`, `${c}/moved`);
    expect(spy).toHaveBeenCalled();
    expect(existsSync(join(dir, c, 'src'))).toBe(false);
    expect(snapshot(join(dir, c, 'moved'), true)).toEqual({
      ...TREE, 'rel-link': 'link:one.txt', 'sub/.keepdav-tmp-0011': 'half an upload',
    });
    expectMtimes(join(dir, c, 'moved'));
    expect(tempFilesUnder(join(dir, c)).filter((p) => !p.startsWith('moved/'))).toEqual([]);
  });

  test.each([
    ['onto an existing file', (c: string) => [`${c}/src/one.txt`, `${c}/src/sub/two.txt`], AlreadyExistsError],
    ['onto itself', (c: string) => [`${c}/src`, `${c}/src`], AlreadyExistsError],
    ['into itself', (c: string) => [`${c}/src`, `${c}/src/sub/x`], AccessDeniedError],
    ['a missing source', (c: string) => [`${c}/none`, `${c}/x`], NotFoundError],
    ['the root', () => ['/', '/x'], AccessDeniedError],
    ['onto the root', (c: string) => [`${c}/src`, '/'], AlreadyExistsError],
    ['to a missing parent', (c: string) => [`${c}/src`, `${c}/none/x`], ParentMissingError],
    ['a reserved source', (c: string) => [`${c}/src/sub/.keepdav-tmp-0011`, `${c}/x`], AccessDeniedError],
    ['to a reserved name', (c: string) => [`${c}/src`, `${c}/.keepdav-src`], AccessDeniedError],
  ])('refuses %s', async (_label, pathsIn, expected) => {
    const c = treeFixture();
    const before = snapshot(join(dir, c), true);
    const [src, dst] = pathsIn(c);
    await expect(store.move(src, dst)).rejects.toBeInstanceOf(expected);
    expect(snapshot(join(dir, c), true)).toEqual(before);
  });
});

test('lists in batches the same whether a write is in flight or not, also when that changes midway', async () => {
  const c = `/t${++counter}`;
  mkdirSync(join(dir, c));
  for (let i = 0; i < 70; i++) writeFileSync(join(dir, c, `f${i}`), String(i));
  const listed = async (toggleAt: number | null): Promise<string[]> => {
    const seen: string[] = [];
    let done: (() => void) | null = null;
    const batches = await store.listInBatches(c, 7);
    for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
      seen.push(...batch.map((m) => m.path));
      if (toggleAt !== null && seen.length >= toggleAt) {
        if (done) done();
        else done = beginWrite();
        toggleAt += 21;
      }
    }
    done?.();
    await batches.close();
    return seen.sort();
  };
  const expected = Array.from({ length: 70 }, (_, i) => `${c}/f${i}`).sort();
  expect(await listed(null)).toEqual(expected);
  expect(await listed(14)).toEqual(expected);
  const done = beginWrite();
  try {
    expect(await listed(null)).toEqual(expected);
  } finally {
    done();
  }
  expect(writesInFlight()).toBe(0);
});
