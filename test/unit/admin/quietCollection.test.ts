/**
 * quietCollection.ts: one collection at the first check after start (start-up's garbage), then
 * one per quiet spell, between one and two checks after the last request ended; none while a
 * request is in flight, none again until there were requests again; nothing at all without
 * --expose-gc; compacting where that gives memory back (Node.js 20), plain where V8 refuses the
 * flag or keeps what compaction frees (Node.js 24). quietCleanUp: the
 * collection, then malloc's trim a little later (either may be missing).
 */
import { fullCollection, quietCleanUp, startQuietCollection, type QuietCollection } from '../../../src/admin/quietCollection';
import type { AccessEntry } from '../../../src/http/accessEntry';

const CHECK_MS = 100;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finished = {} as AccessEntry;

let quiet: QuietCollection | null = null;
afterEach(() => quiet?.stop());

/** A request that starts and finishes at once. */
function oneRequest(q: QuietCollection): void {
  q.requestStarted();
  q.requestFinished(finished);
}

function counting(): { collections: () => number; quiet: QuietCollection } {
  let n = 0;
  quiet = startQuietCollection(() => n++, CHECK_MS);
  return { collections: () => n, quiet };
}

describe('the collection once the server has gone quiet', () => {
  it("one for start-up's garbage at the first check; one after a request and a quiet spell; none again while nothing happens", async () => {
    const { collections, quiet: q } = counting();
    await pause(CHECK_MS / 2);
    expect(collections()).toBe(0);
    await pause(5 * CHECK_MS);
    expect(collections()).toBe(1);
    oneRequest(q);
    await pause(3 * CHECK_MS);
    expect(collections()).toBe(2);
    await pause(5 * CHECK_MS);
    expect(collections()).toBe(2);
    oneRequest(q);
    await pause(3 * CHECK_MS);
    expect(collections()).toBe(3);
  });

  it('none while requests keep coming, nor while one is in flight however long it takes', async () => {
    const { collections, quiet: q } = counting();
    for (let i = 0; i < 30; i++) {
      oneRequest(q);
      await pause(CHECK_MS / 10);
    }
    expect(collections()).toBe(0);
    q.requestStarted(); // a long upload
    await pause(5 * CHECK_MS);
    expect(collections()).toBe(0);
    q.requestFinished(finished);
    await pause(3 * CHECK_MS);
    expect(collections()).toBe(1);
  });

  it('stop() ends the checks', async () => {
    const { collections, quiet: q } = counting();
    oneRequest(q);
    q.stop();
    await pause(4 * CHECK_MS);
    expect(collections()).toBe(0);
  });

  it('without --expose-gc there is nothing to call, and the observer still takes requests; with it, a full collection', () => {
    expect(fullCollection({})).toBeNull();
    quiet = startQuietCollection(fullCollection({}), CHECK_MS);
    oneRequest(quiet);
    const calls: unknown[][] = [];
    fullCollection({ gc: (...args: unknown[]) => void calls.push(['gc', ...args]) }, true, (flags) => void calls.push([flags]))!();
    // No options: a full (major) collection, compacting for this one collection only.
    expect(calls).toEqual([['--compact-on-every-full-gc'], ['gc'], ['--no-compact-on-every-full-gc']]);
    // Flags refused (a V8 that freezes them): still the collection, nothing thrown.
    calls.length = 0;
    const refusing = () => {
      throw new Error('flags are frozen');
    };
    fullCollection({ gc: () => void calls.push(['gc']) }, true, refusing)!();
    expect(calls).toEqual([['gc']]);
    // Where compacting keeps the memory (V8's page pool, Node.js 24): a plain collection, no flags.
    calls.length = 0;
    fullCollection({ gc: () => void calls.push(['gc']) }, false, (flags) => void calls.push([flags]))!();
    expect(calls).toEqual([['gc']]);
  });
});

describe('the clean-up once quiet: the collection, then the trim', () => {
  it('nothing to run when neither is there', () => {
    expect(quietCleanUp(null, null)).toBeNull();
  });

  it('the collection at once, the trim after it once V8 has had time to free what it found dead', () => {
    // Fake timers: on a loaded machine a real 20 ms pause once overran the 50 ms (CI, the whole suite).
    jest.useFakeTimers();
    try {
      const calls: string[] = [];
      const cleanUp = quietCleanUp(() => calls.push('collect'), () => calls.push('trim'), 50)!;
      cleanUp();
      expect(calls).toEqual(['collect']);
      jest.advanceTimersByTime(20);
      expect(calls).toEqual(['collect']);
      jest.advanceTimersByTime(80);
      expect(calls).toEqual(['collect', 'trim']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('the trim alone without --expose-gc; the collection alone without the native helper', async () => {
    const calls: string[] = [];
    quietCleanUp(null, () => calls.push('trim'))!();
    await pause(10);
    expect(calls).toEqual(['trim']);
    quietCleanUp(() => calls.push('collect'), null)!();
    await pause(300);
    expect(calls).toEqual(['trim', 'collect']);
  });

  it('runs from the quiet collection after a quiet spell', async () => {
    const calls: string[] = [];
    quiet = startQuietCollection(quietCleanUp(() => calls.push('collect'), () => calls.push('trim'), 10), CHECK_MS);
    oneRequest(quiet);
    await pause(3 * CHECK_MS);
    expect(calls).toEqual(['collect', 'trim']);
  });
});
