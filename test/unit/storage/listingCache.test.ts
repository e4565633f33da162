/**
 * The listing cache (src/storage/listingCache.ts, native/directoryWatch.c) on a real directory
 * with real inotify: a listing read to its end is kept and served again, and after every kind of
 * change (made behind the server's back, between two requests) the very next listing is exactly
 * what a store without the cache reads, in the same order. A change made while a listing is read
 * keeps nothing; a kept listing is trusted for ttlMs at most (what inotify cannot see: a write
 * through a hard link elsewhere); a lost event queue forgets everything; the limits hold, and
 * every watch goes with the listings that used it. Outside CI a missing build is said loudly and
 * skipped; in CI it must be there.
 */
import {
  appendFileSync, chmodSync, closeSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DIRECTORY_WATCH_BINARY, directoryWatch } from '../../../src/storage/directoryWatch';
import { ListingCache, type ListingCacheLimits } from '../../../src/storage/listingCache';
import { FileStore } from '../../../src/storage/fileStore';
import type { ResourceStat } from '../../../src/storage/resourceStat';
import { itWhenInstalled } from '../../support/realClientKit';
import { thrownBy } from '../../support/thrownBy';
import { freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';
import { allBatches } from './listingFixtures';

const built = existsSync(DIRECTORY_WATCH_BINARY);
const itWhenBuilt = itWhenInstalled('the native directory watch helper (build/Release/directory_watch.node)', built, 'npm install builds it: needs python3, make and a C compiler');

let dir: string;
let elsewhere: string;
let now: number;
let cache: ListingCache;
let cached: FileStore;
let uncached: FileStore;

async function setUp(limits: Partial<ListingCacheLimits> = {}): Promise<void> {
  cache = new ListingCache(directoryWatch()!, { maxMembers: 20_000, maxListings: 64, ttlMs: 1_000, ...limits }, () => now);
  cached = await FileStore.open(join(dir, 'root'), UNUSED_KEPT_DIR, { listingCache: cache });
  uncached = await FileStore.open(join(dir, 'root'), UNUSED_KEPT_DIR, { listingCache: null });
}

beforeEach(async () => {
  dir = freshDir('listing-cache');
  elsewhere = join(dir, 'elsewhere');
  mkdirSync(join(dir, 'root/docs/sub'), { recursive: true });
  mkdirSync(elsewhere);
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, `root/docs/f${i}.txt`), 'x'.repeat(i));
  writeFileSync(join(dir, 'root/docs/sub/inner.txt'), 'inner');
  writeFileSync(join(elsewhere, 'target.txt'), 'the target');
  symlinkSync(join(elsewhere, 'target.txt'), join(dir, 'root/docs/link-out')); // leads out of the root: never listed
  symlinkSync('f1.txt', join(dir, 'root/docs/link-in'));
  now = 0;
  if (built) await setUp();
});

afterEach(() => removeDir(dir));

const host = (name: string) => join(dir, 'root/docs', name);
const listed = (store: FileStore, path = '/docs'): Promise<ResourceStat[]> => allBatches(store, path, 64);

/** Lists through the cache twice (read and kept, then served), and checks both against a read. */
async function listedAndKept(path = '/docs'): Promise<ResourceStat[]> {
  const before = cache.counts;
  const read = await listed(cached, path);
  expect(read).toEqual(await listed(uncached, path));
  expect(cache.counts.kept).toBe(before.kept + 1);
  expect(await listed(cached, path)).toEqual(read);
  expect(cache.counts.served).toBe(before.served + 1);
  return read;
}

/** Every watch this process's inotify instances hold (/proc/self/fdinfo). */
function inotifyWatches(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      count += (readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm) ?? []).length;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

describe('the listing cache', () => {
  itWhenBuilt('keeps a listing read to its end and serves it again, the same members in the same order', async () => {
    const read = await listedAndKept();
    expect(read.map((m) => m.path)).toContain('/docs/link-in');
    expect(read.map((m) => m.path)).not.toContain('/docs/link-out');
    expect(cache.counts.keptMembers).toBe(303); // 300 files, sub, and both symlinks' names (looked up again each time)
  });

  const changes: [string, () => void][] = [
    ['a file rewritten, the same size', () => writeFileSync(host('f9.txt'), 'y'.repeat(9))],
    ['a file appended to', () => appendFileSync(host('f10.txt'), 'more')],
    ['a file truncated', () => truncateSync(host('f11.txt'), 1)],
    ['a file given another modification time', () => utimesSync(host('f12.txt'), new Date('2001-02-03'), new Date('2001-02-03'))],
    ['a file given another mode (its change time)', () => chmodSync(host('f13.txt'), 0o600)],
    ['a file made', () => writeFileSync(host('new.txt'), 'new')],
    ['a file removed', () => unlinkSync(host('f14.txt'))],
    ['a file renamed within', () => renameSync(host('f15.txt'), host('renamed.txt'))],
    ['a file moved in from elsewhere', () => renameSync(join(elsewhere, 'target.txt'), host('moved-in.txt'))],
    ['a file moved out', () => renameSync(host('f16.txt'), join(elsewhere, 'moved-out.txt'))],
    ['a file replaced by a rename over it', () => (writeFileSync(join(elsewhere, 'r'), 'replacement'), renameSync(join(elsewhere, 'r'), host('f17.txt')))],
    ['a collection made', () => mkdirSync(host('newdir'))],
    ['a member of a subcollection made (the subcollection\'s own times)', () => writeFileSync(host('sub/second.txt'), '2')],
    ['the file a symlink leads to rewritten', () => writeFileSync(host('f1.txt'), 'longer than one byte')],
  ];
  for (const [change, make] of changes) {
    itWhenBuilt(`after ${change}, the next listing is what a read gives`, async () => {
      await listedAndKept();
      make();
      expect(await listed(cached)).toEqual(await listed(uncached));
    });
  }

  itWhenBuilt('serves a kept listing with its subcollections looked up again: their times are current', async () => {
    await listedAndKept();
    const served = cache.counts.served;
    writeFileSync(host('sub/second.txt'), '2');
    const after = await listed(cached);
    expect(cache.counts.served).toBe(served + 1);
    expect(after).toEqual(await listed(uncached));
  });

  itWhenBuilt('reads again a collection put in the place of the kept one by renaming its parent (which the kept one\'s watch does not see)', async () => {
    mkdirSync(join(dir, 'root/deep/docs'), { recursive: true });
    writeFileSync(join(dir, 'root/deep/docs/before.txt'), 'before');
    await listedAndKept('/deep/docs');
    renameSync(join(dir, 'root/deep'), join(dir, 'root/deep-old'));
    mkdirSync(join(dir, 'root/deep/docs'), { recursive: true });
    writeFileSync(join(dir, 'root/deep/docs/after.txt'), 'after');
    expect((await listed(cached, '/deep/docs')).map((m) => m.path)).toEqual(['/deep/docs/after.txt']);
  });

  itWhenBuilt('two users of the process\'s directory watch each see every change (one\'s drain takes nothing from the other), and a directory both watch stays watched until neither does', () => {
    const [a, b] = [directoryWatch()!, directoryWatch()!];
    const seen = (user: typeof a) => {
      const got: number[] = [];
      user.drain((wd) => got.push(wd), () => got.push(-1));
      return got;
    };
    seen(a);
    seen(b);
    const wd = a.watch(join(dir, 'root/docs'))!;
    expect(b.watch(join(dir, 'root/docs'))).toBe(wd);
    appendFileSync(host('f1.txt'), 'more');
    expect(seen(b)).toContain(wd);
    expect(seen(a)).toContain(wd);
    a.unwatch(wd);
    appendFileSync(host('f2.txt'), 'more');
    expect(seen(b)).toContain(wd);
    expect(seen(a)).toEqual([]);
    b.unwatch(wd);
    appendFileSync(host('f3.txt'), 'more');
    expect(seen(b)).not.toContain(wd);
  });

  itWhenBuilt('keeps nothing of a listing changed while it was read, nor of one closed before its end', async () => {
    const kept = cache.counts.kept;
    // A file already read grows: the directory's own times stay as they were, only its watch tells.
    const reading = await cached.listInBatches('/docs', 64);
    const grown = (await reading.next())!.find((m) => !m.isCollection && !m.path.includes('link'))!;
    appendFileSync(join(dir, 'root', grown.path), 'grown while read');
    while ((await reading.next()) !== null);
    expect(cache.counts.kept).toBe(kept);
    await allBatches(cached, '/docs', 64, async () => writeFileSync(host('during.txt'), 'made while read'));
    expect(cache.counts.kept).toBe(kept);
    const batches = await cached.listInBatches('/docs', 64);
    await batches.next();
    await batches.close();
    expect(cache.counts.kept).toBe(kept);
    expect(await listed(cached)).toEqual(await listed(uncached));
    expect(cache.counts.kept).toBe(kept + 1);
  });

  itWhenBuilt('trusts a kept listing for ttlMs at most: a write through a hard link elsewhere, which inotify does not see, shows then', async () => {
    // A change made through another directory's name for the file queues its event there, not here
    // (as does the change time a new link gives the file).
    linkSync(host('f20.txt'), join(elsewhere, 'f20-link'));
    await listedAndKept();
    appendFileSync(join(elsewhere, 'f20-link'), 'grown where no watch looks');
    expect((await listed(cached)).find((m) => m.path === '/docs/f20.txt')?.size).toBe(20); // within the time: as kept
    now += 1_001;
    expect((await listed(cached)).find((m) => m.path === '/docs/f20.txt')?.size).toBe(20 + 'grown where no watch looks'.length);
    expect(await listed(cached)).toEqual(await listed(uncached));
  });

  itWhenBuilt('forgets every kept listing when the kernel lost events (its queue overflowed), also of collections nothing changed in', async () => {
    await listedAndKept('/docs/sub');
    await listedAndKept();
    const queue = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    // Alternating two files: consecutive equal events would be merged into one.
    for (let i = 0; i <= queue / 2 + 10; i++) {
      utimesSync(host('f30.txt'), i, i);
      utimesSync(host('f31.txt'), i, i);
    }
    const { kept, served } = cache.counts;
    expect(await listed(cached, '/docs/sub')).toEqual(await listed(uncached, '/docs/sub'));
    expect(cache.counts).toMatchObject({ kept: kept + 1, served }); // read again, though sub's watch saw nothing
    expect(await listed(cached)).toEqual(await listed(uncached));
    expect(cache.counts).toMatchObject({ kept: kept + 2, keptListings: 2 });
  });

  itWhenBuilt('keeps at most maxListings listings and maxMembers members, and lets each watch go with its listings', async () => {
    const watchesBefore = inotifyWatches();
    await setUp({ maxListings: 2, maxMembers: 400 });
    for (const name of ['a', 'b', 'c']) {
      mkdirSync(join(dir, 'root', name));
      for (let i = 0; i < 100; i++) writeFileSync(join(dir, 'root', name, `m${i}`), '');
    }
    await listedAndKept('/a');
    await listedAndKept('/b');
    expect(inotifyWatches()).toBe(watchesBefore + 2);
    await listedAndKept('/c');
    expect(cache.counts).toMatchObject({ keptListings: 2, keptMembers: 200 });
    expect(inotifyWatches()).toBe(watchesBefore + 2);
    const kept = cache.counts.kept;
    await listed(cached, '/a'); // the oldest, forgotten: read again
    expect(cache.counts.kept).toBe(kept + 1);
    await listed(cached, '/docs'); // 303 members, past what may be kept beside 100
    expect(cache.counts).toMatchObject({ keptListings: 1, keptMembers: 303 });
    // Past the limit alone: read every time, never kept.
    for (let i = 0; i < 200; i++) writeFileSync(host(`more${i}`), '');
    const before = cache.counts;
    expect(await listed(cached)).toEqual(await listed(uncached));
    expect(cache.counts).toMatchObject({ kept: before.kept, keptListings: 0, keptMembers: 0 });
    expect(inotifyWatches()).toBe(watchesBefore);
  });

  itWhenBuilt('drops listings past their time when the server is idle, and their watches', async () => {
    const watchesBefore = inotifyWatches();
    await setUp({ ttlMs: 50 });
    await listed(cached);
    expect(inotifyWatches()).toBe(watchesBefore + 1);
    now += 51;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cache.counts).toMatchObject({ keptListings: 0, keptMembers: 0 });
    expect(inotifyWatches()).toBe(watchesBefore);
  });

  itWhenBuilt('refuses wrong calls of the helper with a TypeError, never a crash', () => {
    const binding = require(DIRECTORY_WATCH_BINARY) as Record<string, (...args: unknown[]) => unknown>;
    const fd = binding.open() as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    const wrong: [string, unknown[], string][] = [
      ['watch', ['x', dir], 'watch(fd, dir: string)'],
      ['watch', [fd], 'watch(fd, dir: string)'],
      ['watch', [fd, 7], 'watch(fd, dir: string)'],
      ['unwatch', [fd], 'unwatch(fd, wd)'],
      ['unwatch', [fd, 'wd'], 'unwatch(fd, wd)'],
      ['drain', [], 'drain(fd)'],
      ['drain', ['fd'], 'drain(fd)'],
    ];
    for (const [call, args, message] of wrong) expect(thrownBy(() => binding[call](...args))).toBe(`TypeError: ${message}`);
    expect(binding.watch(fd, join(dir, 'n'.repeat(5000)))).toBeLessThan(0); // too long: -errno
    expect(binding.unwatch(fd, 12345)).toBeLessThan(0);
    expect(binding.drain(fd)).toBeNull();
    closeSync(fd);
  });

  itWhenBuilt('asks to watch a directory that could not be watched again only a minute later (on NFS each refusal is a round trip)', async () => {
    const real = directoryWatch()!;
    let asked = 0;
    const refusing = { ...real, watch: (dirHost: string) => (asked++, dirHost.endsWith('/docs') ? null : real.watch(dirHost)) };
    cache = new ListingCache(refusing, { maxMembers: 20_000, maxListings: 64, ttlMs: 1_000 }, () => now);
    cached = await FileStore.open(join(dir, 'root'), UNUSED_KEPT_DIR, { listingCache: cache });
    for (let i = 0; i < 3; i++) expect(await listed(cached)).toEqual(await listed(uncached));
    expect(asked).toBe(1);
    expect(cache.counts.kept).toBe(0);
    now += 60_001;
    expect(await listed(cached)).toEqual(await listed(uncached));
    expect(asked).toBe(2);
  });

  itWhenBuilt('watches only local filesystems: a change made by another machine would never queue an event here', () => {
    const watch = directoryWatch()!;
    expect(watch.watch('/proc')).toBeNull();
    expect(watch.watch(join(dir, 'missing'))).toBeNull();
    const wd = watch.watch(dir);
    expect(typeof wd).toBe('number');
    watch.unwatch(wd!);
  });
});
