/**
 * listingThread.ts and the listings built on it (listCollection.ts) where the native helper is not
 * built (turned off here: nativeListing.test.ts covers the helper): a directory is read and its
 * members looked up on the worker thread with the same numbers lstat gives, anything not a plain
 * file or directory is left to the careful path; a listing the thread dies under fails loudly
 * (never a short listing), and a whole-directory list falls back to this thread. Batches are read
 * one ahead; closing early leaves no directory open.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  MEMBER_FIELDS, MemberKind, listingThreadReady, listingThreadRunning, openListingOnThread, statMembersOnThread, stopListingThread,
} from '../../../src/storage/listingThread';
import { useNativeListingForTests } from '../../../src/storage/nativeListing';
import { helperThreadsForTests } from '../../../src/storage/workerThread';
import { StorageError } from '../../../src/storage/storageErrors';
import { FileStore } from '../../../src/storage/fileStore';
import type { ResourceStat } from '../../../src/storage/resourceStat';
import { freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';
import { openDescriptorsOn } from '../../support/openDescriptors';
import { allBatches as allBatchesOf, expectExactMany, expectNamesNotUtf8LeftOut, makeListingFixtures } from './listingFixtures';
import { retryWhile } from '../../support/retryWhile';

let dir: string;
let store: FileStore;
beforeAll(async () => {
  useNativeListingForTests(false);
  dir = freshDir('member-stat');
  makeListingFixtures(dir);
  store = await FileStore.open(dir, UNUSED_KEPT_DIR, { listingCache: null }); // every listing read from the directory
});
afterAll(async () => {
  await stopListingThread();
  useNativeListingForTests(true);
  removeDir(dir);
});

/** Starts the listing thread and waits until it is up: listings go to it only then. */
async function threadUp(): Promise<void> {
  await statMembersOnThread(join(dir, 'mixed'), ['file.txt']);
  expect(listingThreadReady()).toBe(true);
}

const allBatches = (path: string, size: number, afterFirst?: () => Promise<void>) => allBatchesOf(store, path, size, afterFirst);
const expectExact = (members: ResourceStat[]) => expectExactMany(dir, members);

describe('statMembersOnThread', () => {
  it('gives lstat\'s numbers for files and directories, and marks everything else careful', async () => {
    const names = ['file.txt', 'sub', 'link-inside', 'link-outside', 'pipe', 'gone'];
    const packed = await statMembersOnThread(join(dir, 'mixed'), names);
    expect(packed.length).toBe(names.length * MEMBER_FIELDS);
    const kinds = names.map((_, i) => packed[i * MEMBER_FIELDS]);
    expect(kinds).toEqual([MemberKind.File, MemberKind.Directory, MemberKind.Careful, MemberKind.Careful, MemberKind.Careful, MemberKind.Careful]);
    const file = lstatSync(join(dir, 'mixed/file.txt'));
    expect(Array.from(packed.subarray(1, MEMBER_FIELDS))).toEqual([file.size, file.mtimeMs, file.ctimeMs, file.birthtimeMs, file.ino, file.dev]);
  });
});

describe('the thread and the process', () => {
  it('a process that lists through the thread gets its answer, then ends by itself (an idle thread holds nothing open)', () => {
    const module = require.resolve('../../../src/storage/listingThread');
    const script = `require(${JSON.stringify(module)}).statMembersOnThread(${JSON.stringify(join(dir, 'mixed'))}, ['sub', 'file.txt']).then((p) => console.log(p[0], p[${MEMBER_FIELDS}]))`;
    const out = execFileSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', script], { timeout: 30_000 });
    expect(out.toString()).toBe(`${MemberKind.Directory} ${MemberKind.File}\n`);
  });
});

describe('listings through the thread', () => {
  beforeEach(threadUp);

  it('list and listInBatches give every member with lstat\'s numbers; a symlink inside still takes the careful path', async () => {
    expectExact(await store.list('/many'));
    expectExact(await allBatches('/many', 256));
  });

  it('a listing whose thread stops midway fails with a StorageError, never ends short; the next listing is whole on a new thread', async () => {
    await expect(allBatches('/many', 100, stopListingThread)).rejects.toBeInstanceOf(StorageError);
    expectExact(await allBatches('/many', 100));
    await threadUp();
    expectExact(await allBatches('/many', 100));
  });

  it('a listing that begins while the thread is down is read on this thread (exact, and stopping the thread does not touch it), and the thread is started for the next one', async () => {
    await stopListingThread();
    expect(listingThreadRunning()).toBe(false);
    expectExact(await allBatches('/many', 100, stopListingThread));
    expectExact(await store.list('/many'));
    expect(listingThreadRunning()).toBe(true);
    expect(await retryWhile(async () => listingThreadReady(), (ready) => !ready, 5_000)).toBe(true);
    await expect(allBatches('/many', 100, stopListingThread)).rejects.toBeInstanceOf(StorageError); // on the thread again
  });

  it('a whole-directory list stays exact when the thread stops as it asks (its lstats are then made here)', async () => {
    const listing = store.list('/many');
    await stopListingThread();
    expectExact(await listing);
  });

  it('a name that is not UTF-8 is never listed, nor breaks the listing when long; a real name holding U+FFFD that it decodes to is listed once (inline and on the thread)', async () => {
    await expectNamesNotUtf8LeftOut(dir, store);
  });

  it('a listing dropped without close() has its directory closed on the thread once it is collected', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const host = join(dir, 'many');
    const openOnMany = () => openDescriptorsOn(host);
    await (async () => {
      const listing = await openListingOnThread(host, 64);
      expect((await listing.read(10))?.names.length).toBe(10);
    })();
    expect(openOnMany()).toBe(1);
    for (let i = 0; i < 50 && openOnMany() > 0; i++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(openOnMany()).toBe(0);
  });

  it('closing after the first batch, with the next one read ahead, leaves no directory open', async () => {
    const host = join(dir, 'many');
    const openOnMany = () => openDescriptorsOn(host);
    const batches = await store.listInBatches('/many', 64);
    expect((await batches.next())?.length).toBe(64);
    expect(openOnMany()).toBe(1);
    await batches.close();
    expect(openOnMany()).toBe(0);
    expect(await batches.next()).toBeNull();
  });
});

/** The process's threads, by the kernel's ids. */
const threadIds = (): Set<string> => new Set(readdirSync('/proc/self/task'));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an idle thread', () => {
  const IDLE_MS = 300;
  beforeAll(async () => {
    await stopListingThread();
    helperThreadsForTests.setIdleStopMs(IDLE_MS);
    await stat(dir); // libuv's thread pool starts on first use: started now, its threads are not taken for the helper's
  });
  afterAll(() => helperThreadsForTests.setIdleStopMs(10_000));

  it('is stopped once it has had nothing to do for the idle time (its OS thread ends); the next call starts another', async () => {
    // By id, not by count: a thread that ends meanwhile (one stopped by an earlier test) must not count against it.
    const before = threadIds();
    const first = await statMembersOnThread(join(dir, 'mixed'), ['file.txt']);
    expect(listingThreadRunning()).toBe(true);
    const started = [...threadIds()].filter((id) => !before.has(id));
    expect(started.length).toBe(1);
    expect(await retryWhile(async () => listingThreadRunning(), (running) => running, 5_000)).toBe(false);
    const alive = () => {
      const now = threadIds();
      return started.filter((id) => now.has(id));
    };
    expect(await retryWhile(async () => alive(), (ids) => ids.length > 0, 5_000)).toEqual([]);
    expect(await statMembersOnThread(join(dir, 'mixed'), ['file.txt'])).toEqual(first);
    expect(listingThreadRunning()).toBe(true);
  });

  it('started for a later listing that never comes, it stops once idle too', async () => {
    await stopListingThread();
    expect(listingThreadReady()).toBe(false); // starts it
    expect(listingThreadRunning()).toBe(true);
    expect(await retryWhile(async () => listingThreadRunning(), (running) => running, 5_000)).toBe(false);
  });

  it('is not stopped while a listing is open, however long its reader waits between batches; stopped once it is closed', async () => {
    await threadUp();
    const batches = await store.listInBatches('/many', 64);
    const out: ResourceStat[] = [];
    for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
      out.push(...batch);
      await pause(out.length === 64 ? 3 * IDLE_MS : 1);
      expect(listingThreadRunning()).toBe(true);
    }
    expectExact(out);
    await batches.close();
    expect(await retryWhile(async () => listingThreadRunning(), (running) => running, 5_000)).toBe(false);
  });
});
