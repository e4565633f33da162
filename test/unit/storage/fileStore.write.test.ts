import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileStore } from '../../../src/storage/fileStore';
import { EARLY_FLUSH_BYTES } from '../../../src/storage/atomicWrite';
import {
  AccessDeniedError, AlreadyExistsError, IncompleteBodyError, IsACollectionError, NoSpaceError, ParentMissingError,
} from '../../../src/storage/storageErrors';
import { bodyOf, errnoError, longBody, failingBody, freshDir, removeDir, tempFilesUnder, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let store: FileStore;

beforeAll(async () => {
  dir = freshDir('write');
  store = await FileStore.open(dir, UNUSED_KEPT_DIR);
});
afterAll(() => removeDir(dir));
afterEach(() => jest.restoreAllMocks());

/** A fresh collection for one test, so tests do not see each other's files. */
let counter = 0;
function testCollection(): string {
  const name = `/t${++counter}`;
  mkdirSync(join(dir, name));
  return name;
}

describe('writeAtomic', () => {
  test('creates a file and says it was created', async () => {
    const c = testCollection();
    const { stat, created } = await store.writeAtomic(`${c}/new.txt`, bodyOf('hello world'));
    expect(created).toBe(true);
    expect(readFileSync(join(dir, c, 'new.txt'), 'utf8')).toBe('hello world');
    expect(stat).toMatchObject({ path: `${c}/new.txt`, isCollection: false, size: 11 });
    expect(stat.ino).toBe(statSync(join(dir, c, 'new.txt')).ino);
    expect(tempFilesUnder(dir)).toEqual([]);
  });

  test('overwrites an existing file, keeps its permission bits, says it was not created', async () => {
    const c = testCollection();
    const host = join(dir, c, 'f');
    writeFileSync(host, 'old content that is longer');
    chmodSync(host, 0o640);
    const { stat, created } = await store.writeAtomic(`${c}/f`, bodyOf('new'), { expectedLength: 3 });
    expect(created).toBe(false);
    expect(readFileSync(host, 'utf8')).toBe('new');
    expect(stat.size).toBe(3);
    expect(statSync(host).mode & 0o777).toBe(0o640);
  });

  test('an empty body makes an empty file', async () => {
    const c = testCollection();
    const { stat } = await store.writeAtomic(`${c}/empty`, bodyOf(''), { expectedLength: 0 });
    expect(stat.size).toBe(0);
    expect(readFileSync(join(dir, c, 'empty')).length).toBe(0);
  });

  test('sets the modification time when given, with sub-second precision', async () => {
    const c = testCollection();
    const mtimeMs = 1_700_000_000_250;
    const { stat } = await store.writeAtomic(`${c}/timed`, bodyOf('x'), { mtimeMs });
    expect(Math.abs(stat.mtimeMs - mtimeMs)).toBeLessThan(1);
    expect(Math.abs(statSync(join(dir, c, 'timed')).mtimeMs - mtimeMs)).toBeLessThan(1);
  });

  const failures: Array<[label: string, body: () => Readable, expectedLength: number | undefined]> = [
    ['the body errors', () => failingBody('partial', 'error'), undefined],
    ['the body closes before its end', () => failingBody('partial', 'premature-close'), undefined],
    ['the body is aborted (IncomingMessage style)', () => failingBody('partial', 'aborted'), undefined],
    ['the body ends short of expectedLength', () => bodyOf('12345'), 6],
    ['the body runs past expectedLength', () => bodyOf('1234567'), 6],
    ['the body is already destroyed', () => { const b = bodyOf('abc'); b.destroy(); return b; }, undefined],
  ];

  test.each(failures)('when %s: IncompleteBodyError, old bytes intact, no temp file', async (_label, makeBody, expectedLength) => {
    const c = testCollection();
    const host = join(dir, c, 'keep');
    const old = Buffer.from([0, 1, 2, 3, 255, 254]);
    writeFileSync(host, old);
    const before = statSync(host);
    await expect(store.writeAtomic(`${c}/keep`, makeBody(), { expectedLength })).rejects.toBeInstanceOf(IncompleteBodyError);
    expect(readFileSync(host).equals(old)).toBe(true);
    expect(statSync(host).ino).toBe(before.ino);
    expect(readdirSync(join(dir, c))).toEqual(['keep']);
  });

  test('a failed new file leaves nothing behind', async () => {
    const c = testCollection();
    await expect(store.writeAtomic(`${c}/never`, failingBody('x', 'error'))).rejects.toBeInstanceOf(IncompleteBodyError);
    expect(readdirSync(join(dir, c))).toEqual([]);
  });

  test('a body running past expectedLength is unpiped and paused, not destroyed', async () => {
    const c = testCollection();
    const body = longBody();
    await expect(store.writeAtomic(`${c}/f`, body, { expectedLength: 3 })).rejects.toBeInstanceOf(IncompleteBodyError);
    expect(body.destroyed).toBe(false);
    expect(body.readableEnded).toBe(false);
    expect(body.isPaused()).toBe(true);
  });

  test('disk full while writing: NoSpaceError, old bytes intact, body not destroyed', async () => {
    const c = testCollection();
    const host = join(dir, c, 'full');
    writeFileSync(host, 'precious');
    // Every way a write reaches a file under the store (inline for small pieces, through the pool
    // otherwise) fails; writes elsewhere (the test runner's own output) go on.
    const fs: typeof import('node:fs') = require('node:fs');
    const underStore = (fd: unknown) => typeof fd === 'number' && fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    for (const name of ['write', 'writev'] as const) {
      const original = fs[name] as (...args: unknown[]) => unknown;
      jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
        if (!underStore(args[0])) return original(...args);
        (args[args.length - 1] as (err: Error) => void)(errnoError('ENOSPC'));
      }) as never);
    }
    for (const name of ['writeSync', 'writevSync'] as const) {
      const original = fs[name] as (...args: unknown[]) => unknown;
      jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
        if (!underStore(args[0])) return original(...args);
        throw errnoError('ENOSPC');
      }) as never);
    }
    const body = longBody();
    await expect(store.writeAtomic(`${c}/full`, body)).rejects.toBeInstanceOf(NoSpaceError);
    jest.restoreAllMocks();
    expect(readFileSync(host, 'utf8')).toBe('precious');
    expect(readdirSync(join(dir, c))).toEqual(['full']);
    expect(body.destroyed).toBe(false);
    expect(body.readableEnded).toBe(false);
  });

  test.each([
    ['a missing parent', '/no-such-dir/f', ParentMissingError],
    ['a parent that is a file', '/a-file/f', ParentMissingError],
    ['a collection at the target', '/a-dir', IsACollectionError],
    ['the root', '/', IsACollectionError],
    ['a reserved name', '/.keepdav-tmp-0123', AccessDeniedError],
    ['a reserved parent', '/.keepdav-state/f', AccessDeniedError],
  ])('refuses %s before reading the body', async (_label, path, expected) => {
    writeFileSync(join(dir, 'a-file'), 'x');
    mkdirSync(join(dir, 'a-dir'), { recursive: true });
    const body = bodyOf('unread');
    await expect(store.writeAtomic(path, body)).rejects.toBeInstanceOf(expected);
    expect(body.readableDidRead).toBe(false);
    expect(tempFilesUnder(dir)).toEqual([]);
  });

  test.each([[-1], [1.5], [Number.NaN]])('refuses expectedLength %p with RangeError', async (expectedLength) => {
    const c = testCollection();
    await expect(store.writeAtomic(`${c}/f`, bodyOf('x'), { expectedLength })).rejects.toBeInstanceOf(RangeError);
    expect(readdirSync(join(dir, c))).toEqual([]);
  });

  test('streams a large body with backpressure: the reader never runs far ahead of the disk', async () => {
    const c = testCollection();
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 64 * 1024 * 1024;
    let produced = 0;
    let maxLead = 0;
    const collection = join(dir, c);
    const body = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        const temp = readdirSync(collection).find((n) => n.startsWith('.keepdav-tmp-'));
        const onDisk = temp === undefined ? 0 : statSync(join(collection, temp)).size;
        maxLead = Math.max(maxLead, produced - onDisk);
        if (produced >= total) this.push(null);
        else {
          produced += chunk.length;
          this.push(chunk);
        }
      },
    });
    const { stat } = await store.writeAtomic(`${c}/big`, body, { expectedLength: total });
    expect(stat.size).toBe(total);
    expect(maxLead).toBeLessThan(8 * 1024 * 1024);
  });

  /** How many of the fdatasyncs watchDataSyncs saw have ended. */
  let dataSyncsEnded = 0;

  /** Every fdatasync of a file under the store, with how many bytes the file had then; `fail` makes them fail. */
  function watchDataSyncs(fail?: NodeJS.ErrnoException): number[] {
    const fs: typeof import('node:fs') = require('node:fs');
    const original = fs.fdatasync;
    const sizes: number[] = [];
    dataSyncsEnded = 0;
    jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
      if (!fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) return original(fd, done);
      sizes.push(fs.fstatSync(fd).size);
      const ended = (err: NodeJS.ErrnoException | null) => {
        dataSyncsEnded++;
        done(err);
      };
      if (fail) ended(fail);
      else original(fd, ended);
    }) as never);
    return sizes;
  }

  /** `total` bytes of 7s, in 1 MiB pieces. */
  const sevens = (total: number) => Readable.from((function* () {
    for (let at = 0; at < total; at += 1 << 20) yield Buffer.alloc(Math.min(1 << 20, total - at), 7);
  })());

  /**
   * `total` bytes of 7s, in 1 MiB pieces, arriving no faster than the disk takes them, as over a
   * network: 2 MiB past each EARLY_FLUSH_BYTES the body waits for that early flush to end. An
   * instant body is written faster than a 32 MiB fdatasync ends, so the flushes it gets depend on
   * the disk's speed at that moment (hashing its SHA-1 as it streamed used to pace it). Flushes
   * that never come are waited for 10 s in all, and the test's own checks then fail.
   */
  const sevensPacedByFlushes = (total: number) => Readable.from((async function* () {
    const giveUpAt = Date.now() + 10_000;
    for (let at = 0; at < total; at += 1 << 20) {
      const flushesDue = Math.max(0, Math.floor((at - (2 << 20)) / EARLY_FLUSH_BYTES));
      while (dataSyncsEnded < flushesDue && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 1));
      yield Buffer.alloc(Math.min(1 << 20, total - at), 7);
    }
  })());

  test('a large body goes to the disk while it arrives (an fdatasync every EARLY_FLUSH_BYTES), a small one only at the end', async () => {
    const c = testCollection();
    const sizes = watchDataSyncs();
    const total = 3 * EARLY_FLUSH_BYTES + 12_345;
    const { stat } = await store.writeAtomic(`${c}/big`, sevensPacedByFlushes(total), { expectedLength: total });
    expect(stat.size).toBe(total);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(sizes.length).toBeLessThanOrEqual(3);
    for (const size of sizes) {
      expect(size).toBeGreaterThanOrEqual(EARLY_FLUSH_BYTES);
      expect(size).toBeLessThan(total);
    }
    await store.writeAtomic(`${c}/small`, bodyOf('small'));
    expect(sizes.length).toBeLessThanOrEqual(3);
  });

  test('an early flush that fails fails the write (a sync error is reported once): the error, old bytes intact, no temp file', async () => {
    const c = testCollection();
    const host = join(dir, c, 'precious');
    writeFileSync(host, 'precious');
    const sizes = watchDataSyncs(errnoError('EIO'));
    const total = 2 * EARLY_FLUSH_BYTES;
    await expect(store.writeAtomic(`${c}/precious`, sevens(total), { expectedLength: total })).rejects.toMatchObject({ code: 'EIO' });
    expect(sizes.length).toBeGreaterThanOrEqual(1);
    jest.restoreAllMocks();
    expect(readFileSync(host, 'utf8')).toBe('precious');
    expect(readdirSync(join(dir, c))).toEqual(['precious']);
  });

});

describe('createEmpty', () => {
  test('creates an empty file exclusively', async () => {
    const c = testCollection();
    const stat = await store.createEmpty(`${c}/locked`);
    expect(stat).toMatchObject({ isCollection: false, size: 0, path: `${c}/locked` });
    expect(readFileSync(join(dir, c, 'locked')).length).toBe(0);
    await expect(store.createEmpty(`${c}/locked`)).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  test.each([
    ['/missing/x', ParentMissingError],
    ['/', AlreadyExistsError],
    ['/.keepdav-x', AccessDeniedError],
  ])('%s => %p', async (path, expected) => {
    await expect(store.createEmpty(path)).rejects.toBeInstanceOf(expected);
  });

  test('an existing collection is AlreadyExists', async () => {
    const c = testCollection();
    await expect(store.createEmpty(c)).rejects.toBeInstanceOf(AlreadyExistsError);
  });
});

describe('makeCollection', () => {
  test('creates one level only', async () => {
    const c = testCollection();
    await store.makeCollection(`${c}/sub`);
    expect(statSync(join(dir, c, 'sub')).isDirectory()).toBe(true);
    await expect(store.makeCollection(`${c}/x/y`)).rejects.toBeInstanceOf(ParentMissingError);
    expect(existsSync(join(dir, c, 'x'))).toBe(false);
  });

  test.each([
    ['an existing collection', (c: string) => `${c}/d`, AlreadyExistsError],
    ['an existing file', (c: string) => `${c}/f`, AlreadyExistsError],
    ['under a file', (c: string) => `${c}/f/sub`, ParentMissingError],
    ['a reserved name', (c: string) => `${c}/.keepdav-versions`, AccessDeniedError],
    ['the root', () => '/', AlreadyExistsError],
  ])('refuses %s', async (_label, pathIn, expected) => {
    const c = testCollection();
    mkdirSync(join(dir, c, 'd'));
    writeFileSync(join(dir, c, 'f'), 'x');
    await expect(store.makeCollection(pathIn(c))).rejects.toBeInstanceOf(expected);
  });
});

describe('setModifiedTime', () => {
  test.each([[0], [1_000_000_000_000], [1_700_000_000_123]])('sets mtime %p on a file and a collection', async (mtimeMs) => {
    const c = testCollection();
    writeFileSync(join(dir, c, 'f'), 'x');
    for (const path of [`${c}/f`, c]) {
      const stat = await store.setModifiedTime(path, mtimeMs);
      expect(Math.abs(stat.mtimeMs - mtimeMs)).toBeLessThan(1);
      expect(Math.abs(statSync(join(dir, path)).mtimeMs - mtimeMs)).toBeLessThan(1);
    }
  });

  test('does not change the content', async () => {
    const c = testCollection();
    writeFileSync(join(dir, c, 'f'), 'content');
    await store.setModifiedTime(`${c}/f`, 1_600_000_000_000);
    expect(readFileSync(join(dir, c, 'f'), 'utf8')).toBe('content');
  });

  test.each([
    ['/nothing-here', 1, 'NotFoundError'],
    ['/nothing-here/x', 1, 'NotFoundError'],
    ['/a-file/x', 1, 'NotFoundError'],
    ['/.keepdav-x', 1, 'AccessDeniedError'],
    ['/', Number.POSITIVE_INFINITY, 'RangeError'],
  ])('%s with %p => %s', async (path, mtimeMs, name) => {
    writeFileSync(join(dir, 'a-file'), 'x');
    await expect(store.setModifiedTime(path, mtimeMs)).rejects.toMatchObject({ name });
  });
});

describe('malformed paths', () => {
  test.each(['', 'a', '/a/', '/a//b', '/a/../b', '/./a', '/a\\b', '/a\u0000b'])('%p is refused with BadPathError', async (path) => {
    await expect(store.writeAtomic(path, bodyOf('x'))).rejects.toMatchObject({ name: 'BadPathError' });
    await expect(store.stat(path)).rejects.toMatchObject({ name: 'BadPathError' });
    expect(() => store.hostPathOf(path)).toThrow(/not a DavPath/);
  });
});
