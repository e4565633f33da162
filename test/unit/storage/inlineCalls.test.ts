import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inline, inlineAllowed, inlineCallsForTests } from '../../../src/storage/inlineCalls';
import {
  closeDescriptor, openDescriptor, openDirectoryDescriptor, statDescriptor, syncDescriptor, writeAllToDescriptor,
} from '../../../src/storage/fileDescriptorCalls';
import { FileStore } from '../../../src/storage/fileStore';
import { bodyOf, freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';
import { constants } from 'node:fs';

let dir: string;
beforeAll(() => {
  dir = freshDir('inline');
});
afterAll(() => removeDir(dir));
afterEach(() => inlineCallsForTests.resume());

function busyWait(ms: number): number {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
}

describe('inline calls', () => {
  test('a quick call leaves them allowed and returns its value', () => {
    expect(inline(() => 42)).toBe(42);
    expect(inlineAllowed()).toBe(true);
  });

  test('one call slower than the limit pauses them, also when it throws', () => {
    expect(() =>
      inline(() => {
        busyWait(30);
        throw new Error('slow and failed');
      }),
    ).toThrow('slow and failed');
    expect(inlineAllowed()).toBe(false);
    expect(inlineCallsForTests.paused()).toBe(true);
    inlineCallsForTests.resume();
    expect(inlineAllowed()).toBe(true);
  });

  test('the pause ends by itself after ten seconds', () => {
    const realNow = Date.now;
    let now = realNow();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    inline(() => busyWait(30));
    expect(inlineAllowed()).toBe(false);
    now += 9_000;
    expect(inlineAllowed()).toBe(false);
    now += 1_001;
    expect(inlineAllowed()).toBe(true);
    jest.restoreAllMocks();
  });
});

describe.each([
  ['inline', false],
  ['through the thread pool (paused)', true],
])('descriptor calls %s', (_label, paused) => {
  beforeEach(() => {
    if (paused) inline(() => busyWait(30));
    expect(inlineAllowed()).toBe(!paused);
  });

  test('write small and large pieces, stat, sync and close', async () => {
    const host = join(dir, `file-${paused}`);
    const fd = await openDescriptor(host, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
    const small = Buffer.from('small piece;');
    const large = Buffer.alloc(200 * 1024, 'L');
    await writeAllToDescriptor(fd, [small, Buffer.alloc(0), large, small]);
    await syncDescriptor(fd);
    const stats = await statDescriptor(fd);
    await closeDescriptor(fd);
    expect(stats.size).toBe(2 * small.length + large.length);
    expect(readFileSync(host)).toEqual(Buffer.concat([small, large, small]));
    expect(statSync(host).ino).toBe(stats.ino);
  });

  test('a directory opens and syncs', async () => {
    const sub = join(dir, `dir-${paused}`);
    mkdirSync(sub);
    const fd = await openDirectoryDescriptor(sub);
    await syncDescriptor(fd);
    await closeDescriptor(fd);
  });

  test('an atomic write through the store', async () => {
    const store = await FileStore.open(dir, UNUSED_KEPT_DIR);
    const written = await store.writeAtomic(`/atomic-${paused}`, bodyOf('the whole content'));
    expect(written.created).toBe(true);
    expect(readFileSync(join(dir, `atomic-${paused}`), 'utf8')).toBe('the whole content');
    // The stats are those after the rename: what a later stat sees.
    const later = statSync(join(dir, `atomic-${paused}`));
    expect(written.stat.ino).toBe(later.ino);
    expect(written.stat.ctimeMs).toBe(later.ctimeMs);
    expect(written.stat.size).toBe(17);
  });
});
