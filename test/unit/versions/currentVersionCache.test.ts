import { CurrentVersionCache } from '../../../src/versions/currentVersionCache';
import type { DavPath } from '../../../src/paths/davPath';

const NOW = 1_000_000;
const P = '/f' as DavPath;
const Q = '/g' as DavPath;
const S = { ino: 7, size: 3, mtimeMs: NOW - 60_000, ctimeMs: NOW - 60_000 };
const V = { etag: '"p"', digests: { sha1: 'a'.repeat(40), md5: 'b'.repeat(32) } };

describe('CurrentVersionCache', () => {
  test('answers only while inode, size, mtime and ctime are those it was given', () => {
    const cache = new CurrentVersionCache();
    cache.set(P, S, V, NOW);
    expect(cache.get(P, S)).toEqual(expect.objectContaining(V));
    for (const change of [{ ino: 8 }, { size: 4 }, { mtimeMs: NOW - 1 }, { ctimeMs: NOW - 59_999 }]) {
      cache.set(P, S, V, NOW);
      expect(cache.get(P, { ...S, ...change })).toBeUndefined();
      expect(cache.get(P, S)).toBeUndefined(); // a mismatch drops the entry
    }
    expect(cache.get(Q, S)).toBeUndefined();
  });

  test('keeps nothing for a file changed in the last two seconds (a change in the same tick would look the same)', () => {
    const cache = new CurrentVersionCache();
    const recent = { ...S, ctimeMs: NOW - 1_999 };
    cache.set(P, recent, V, NOW);
    expect(cache.get(P, recent)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('holds at most its capacity, dropping the least recently used', () => {
    const cache = new CurrentVersionCache(2);
    cache.set(P, S, V, NOW);
    cache.set(Q, S, { etag: '"q"', digests: null }, NOW);
    cache.get(P, S); // P is now the most recently used
    cache.set('/h' as DavPath, S, { etag: '"h"', digests: null }, NOW);
    expect(cache.size).toBe(2);
    expect(cache.get(Q, S)).toBeUndefined();
    expect(cache.get(P, S)?.etag).toBe('"p"');
  });
});
