/**
 * native/memberListing.c and the listings built on it (nativeListing.ts, listCollection.ts): `npm
 * install` builds it (node-gyp). A directory is read on libuv's pool in batches, and every name
 * gets exactly the numbers fs.lstatSync gives (the same doubles, bit for bit) for plain files and
 * directories, while everything else is careful (symlinks, special files, missing names, names
 * that are not UTF-8 or that no directory entry can have), on this root's filesystem and on tmpfs,
 * with this suite's node and with Node.js 24 when NODE24_FOR_TESTS names it (Node-API: one build
 * serves both). Listings through it are exact and start no listing thread; wrong calls throw; a
 * directory is closed by close(), after a read under way, or once dropped and collected. Outside
 * CI a missing build is said loudly and skipped; in CI it must be there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MEMBER_FIELDS, listingThreadRunning, stopListingThread } from '../../../src/storage/listingThread';
import { MEMBER_LISTING_BINARY, POOL_DIRECTORY_WORK, nativeListingAvailable, openNativeListing } from '../../../src/storage/nativeListing';
import { FileStore } from '../../../src/storage/fileStore';
import { NotACollectionError, NotFoundError } from '../../../src/storage/storageErrors';
import { itWhenInstalled } from '../../support/realClientKit';
import { nodesUnderTest } from '../../support/nodesUnderTest';
import { thrownBy } from '../../support/thrownBy';
import { openDescriptorsOn } from '../../support/openDescriptors';
import { freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';
import { allBatches, expectExactMany, expectNamesNotUtf8LeftOut, makeListingFixtures } from './listingFixtures';

const built = existsSync(MEMBER_LISTING_BINARY);
const itWhenBuilt = itWhenInstalled('the native member listing helper (build/Release/member_listing.node)', built, 'npm install builds it: needs python3, make and a C compiler');

interface Binding {
  open(dir: unknown): Promise<object>;
  read(listing: unknown, max: unknown): Promise<{ names: string[]; stats: Float64Array }>;
  close(listing: unknown): void;
  stat(dir: unknown, names: unknown): Promise<Float64Array>;
}
const load = () => require(MEMBER_LISTING_BINARY) as Binding;

/** Names beyond the directory's own: missing, a path, a NUL, too long for any filesystem, long once encoded. */
const IMPOSSIBLE = ['gone', 'sub/inner', 'nul\u0000name', 'n'.repeat(300), '文'.repeat(90)];

/**
 * Prints, for the directory argv[1], what the helper read (in batches of 3) and, for each name read
 * and each impossible one, lstat's fields beside the helper's from read() and from stat(), as JSON.
 * With argv[2] "fstatat" the helper works as where statx is missing, and lstat's birth time is
 * replaced by its change time, as libuv's lstat gives it there.
 */
const COMPARE = `
const fs = require('node:fs');
const native = require(${JSON.stringify(MEMBER_LISTING_BINARY)});
const dir = process.argv[1];
const withoutStatx = process.argv[2] === 'fstatat';
if (withoutStatx) native.useFstatatForTests();
const kindOf = (s) => s === undefined ? 0 : s.isFile() ? 1 : s.isDirectory() ? 2 : 0;
const lstatRow = (name) => {
  let s;
  try { s = fs.lstatSync(dir + '/' + name, { throwIfNoEntry: false }); } catch { s = undefined; }
  const kind = kindOf(s);
  return kind === 0 ? [0, 0, 0, 0, 0, 0, 0] : [kind, s.size, s.mtimeMs, s.ctimeMs, withoutStatx ? s.ctimeMs : s.birthtimeMs, s.ino, s.dev];
};
const row = (stats, i) => Array.from(stats.subarray(i * ${MEMBER_FIELDS}, (i + 1) * ${MEMBER_FIELDS}));
(async () => {
  const listing = await native.open(dir);
  const read = [];
  for (let batch; (batch = await native.read(listing, 3)).names.length > 0; ) {
    if (batch.names.length > 3) throw new Error('a batch larger than asked');
    batch.names.forEach((name, i) => read.push({ name, lstat: lstatRow(name), native: row(batch.stats, i) }));
  }
  native.close(listing);
  const names = [...read.map((r) => r.name), ...${JSON.stringify(IMPOSSIBLE)}];
  const stats = await native.stat(dir, names);
  const stated = names.map((name, i) => ({ name, lstat: lstatRow(name), native: row(stats, i) }));
  process.stdout.write(JSON.stringify({ read, stated }));
})();
`;

interface Row {
  name: string;
  lstat: number[];
  native: number[];
}

/** Every kind of member a directory can hold, a large file, and names in UTF-8 and not. */
function fillMixed(dir: string): void {
  writeFileSync(join(dir, 'file.txt'), 'twelve bytes');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  writeFileSync(join(dir, 'Grüße ✓ 文件 🎉'), 'unicode, up to four bytes a character');
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'not-utf8-')), Buffer.from([0xff])]), 'a name that is not UTF-8: it reads as U+FFFD, which names nothing');
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'overlong-')), Buffer.from([0xc0, 0xaf])]), 'an overlong "/": not UTF-8');
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'surrogate-')), Buffer.from([0xed, 0xa0, 0x80])]), 'an encoded surrogate: not UTF-8');
  mkdirSync(join(dir, 'sub'));
  symlinkSync('file.txt', join(dir, 'link'));
  symlinkSync('/nowhere', join(dir, 'dangling'));
  execFileSync('mkfifo', [join(dir, 'pipe')]);
}
const KINDS: Record<string, number> = {
  'file.txt': 1, empty: 1, 'big.bin': 1, 'Grüße ✓ 文件 🎉': 1, 'not-utf8-\uFFFD': 0, 'overlong-\uFFFD\uFFFD': 0, 'surrogate-\uFFFD\uFFFD\uFFFD': 0,
  sub: 2, link: 0, dangling: 0, pipe: 0,
};

describe.each(nodesUnderTest())('native member listing on %s', (_label, node) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  const compare = (dir: string, mode: 'statx' | 'fstatat'): { read: Row[]; stated: Row[] } => JSON.parse(execFileSync(node, ['-e', COMPARE, dir, mode], { encoding: 'utf8' }));

  const filesystems: Array<[string, () => string, 'statx' | 'fstatat']> = [
    ["the tests' filesystem", () => freshDir('member-listing'), 'statx'],
    ['tmpfs (/dev/shm)', () => mkdtempSync('/dev/shm/keepdav-member-listing-'), 'statx'],
    ["the tests' filesystem, as where statx is missing (fstatat)", () => freshDir('member-listing-fstatat'), 'fstatat'],
  ];
  for (const [where, makeDir, mode] of filesystems) {
    itWhenBuilt(`reads every name and gives lstat's exact numbers for files and directories, careful for the rest, on ${where}`, () => {
      if (where.startsWith('tmpfs') && !existsSync('/dev/shm')) return;
      const dir = makeDir();
      dirs.push(dir);
      fillMixed(dir);
      const { read, stated } = compare(dir, mode);
      expect(read.map((r) => r.name).sort()).toEqual(readdirSync(dir).sort());
      expect(Object.fromEntries(read.map((r) => [r.name, r.native[0]]))).toEqual(KINDS);
      expect(stated.length).toBe(read.length + IMPOSSIBLE.length);
      for (const r of [...read, ...stated]) expect({ name: r.name, numbers: r.native }).toEqual({ name: r.name, numbers: r.lstat });
      expect(stated.slice(read.length).map((r) => r.native[0])).toEqual(IMPOSSIBLE.map(() => 0));
      // The times carry their fractions: the comparison is not of whole seconds only.
      expect(lstatSync(join(dir, 'file.txt')).mtimeMs % 1000).not.toBe(0);
    });
  }
});

describe('native member listing, calls', () => {
  let dir: string;
  beforeAll(() => {
    dir = freshDir('member-listing-calls');
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), 'x');
    writeFileSync(join(dir, 'plain'), 'a file, not a directory');
  });
  afterAll(() => removeDir(dir));

  itWhenBuilt('rejects with the errno when the directory cannot be opened: missing, or a file', async () => {
    const { open, stat } = load();
    await expect(open('/nonexistent-keepdav-dir')).rejects.toEqual({ errno: 2 });
    await expect(open(join(dir, 'plain'))).rejects.toEqual({ errno: 20 });
    await expect(stat(join(dir, 'plain'), ['a'])).rejects.toEqual({ errno: 20 });
    // Through nativeListing.ts: the errno-coded Error fs would give.
    await expect(openNativeListing('/nonexistent-keepdav-dir')).rejects.toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'opendir' });
  });

  itWhenBuilt('throws a TypeError for arguments of the wrong types, and for a second read while one is under way', async () => {
    const { open, read, close, stat } = load();
    expect(thrownBy(() => open(1))).toBe('TypeError: dir must be a string');
    expect(thrownBy(() => read({}, 1))).toBe('TypeError: listing must be what open() gave');
    expect(thrownBy(() => close('x'))).toBe('TypeError: listing must be what open() gave');
    expect(thrownBy(() => stat('/', 'names'))).toBe('TypeError: names must be an array');
    expect(thrownBy(() => stat('/', [1]))).toBe('TypeError: names must hold strings');
    const listing = await open(dir);
    expect(thrownBy(() => read(listing, 0))).toBe('TypeError: max must be a whole number from 1 to 4096');
    expect(thrownBy(() => read(listing, 5000))).toBe('TypeError: max must be a whole number from 1 to 4096');
    const first = read(listing, 4);
    expect(thrownBy(() => read(listing, 4))).toBe('TypeError: a read of this listing is under way');
    expect((await first).names.length).toBe(4);
    close(listing);
  });

  itWhenBuilt('close() during a read lets that read answer, then closes the directory; reads after it find the end', async () => {
    const { open, read, close } = load();
    const listing = await open(dir);
    const reading = read(listing, 3);
    close(listing);
    expect((await reading).names.length).toBe(3);
    expect(openDescriptorsOn(dir)).toBe(0);
    expect(await read(listing, 3)).toEqual({ names: [], stats: new Float64Array(0) });
    close(listing); // twice: nothing to do
  });

  itWhenBuilt('a listing dropped without close() has its directory closed once it is collected', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    await (async () => {
      const listing = await openNativeListing(dir);
      expect((await listing.read(4))?.names.length).toBe(4);
    })();
    expect(openDescriptorsOn(dir)).toBe(1);
    for (let i = 0; i < 50 && openDescriptorsOn(dir) > 0; i++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(openDescriptorsOn(dir)).toBe(0);
  });
});

describe('listings through the native helper', () => {
  let dir: string;
  let store: FileStore;
  beforeAll(async () => {
    await stopListingThread();
    dir = freshDir('member-listing-store');
    makeListingFixtures(dir);
    store = await FileStore.open(dir, UNUSED_KEPT_DIR, { listingCache: null }); // every listing read from the directory
  });
  afterAll(() => removeDir(dir));

  itWhenBuilt('list and listInBatches give every member with lstat\'s numbers, a symlink inside by the careful path, and start no listing thread', async () => {
    expect(nativeListingAvailable()).toBe(true);
    expectExactMany(dir, await store.list('/many'));
    for (const size of [1, 100, 256, 5000]) expectExactMany(dir, await allBatches(store, '/many', size));
    expect(listingThreadRunning()).toBe(false);
  });

  itWhenBuilt('many listings at once hold at most four of the pool\'s threads (the rest wait their turn), and each is whole', async () => {
    const seen: Array<{ running: number; waiting: number }> = [];
    const sampling = setInterval(() => seen.push(POOL_DIRECTORY_WORK.load), 0);
    try {
      const listings = await Promise.all(Array.from({ length: 12 }, () => allBatches(store, '/many', 64)));
      for (const members of listings) expectExactMany(dir, members);
    } finally {
      clearInterval(sampling);
    }
    seen.push(POOL_DIRECTORY_WORK.load);
    expect(Math.max(...seen.map((l) => l.running))).toBeLessThanOrEqual(4);
    expect(seen.some((l) => l.waiting > 0)).toBe(true);
    expect(POOL_DIRECTORY_WORK.load).toEqual({ running: 0, waiting: 0 });
  });

  itWhenBuilt('a missing collection is NotFound, a file NotACollection, before anything is read', async () => {
    await expect(store.listInBatches('/absent', 256)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.listInBatches('/mixed/sub/absent', 256)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.listInBatches('/mixed/file.txt', 256)).rejects.toBeInstanceOf(NotACollectionError);
  });

  itWhenBuilt('a name that is not UTF-8 is never listed, nor breaks the listing when long; a real name holding U+FFFD that it decodes to is listed once', async () => {
    await expectNamesNotUtf8LeftOut(dir, store);
  });

  itWhenBuilt('closing after the first batch, with the next one read ahead, leaves no directory open', async () => {
    const host = join(dir, 'many');
    const batches = await store.listInBatches('/many', 64);
    expect((await batches.next())?.length).toBe(64);
    expect(openDescriptorsOn(host)).toBe(1);
    await batches.close();
    expect(openDescriptorsOn(host)).toBe(0);
    expect(await batches.next()).toBeNull();
  });
});
