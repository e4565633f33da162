import { openMemoryDatabase } from '../../../src/state/database';
import { VersionStore } from '../../../src/versions/versionStore';
import { CurrentVersionCache } from '../../../src/versions/currentVersionCache';
import type { DavPath } from '../../../src/paths/davPath';

const P = '/f' as DavPath;
const Q = '/g' as DavPath;
const F = { ino: 7, size: 3, mtimeMs: 1000 };
const D = { sha1: 'a'.repeat(40), md5: 'b'.repeat(32) };

describe('CurrentVersionCache', () => {
  test('answers only for the fingerprint it was given, and evicts the least recently used', () => {
    const cache = new CurrentVersionCache(2);
    cache.set(P, F, { etag: '"p"', digests: null });
    expect(cache.get(P, F)?.etag).toBe('"p"');
    expect(cache.get(P, { ...F, mtimeMs: 1001 })).toBeUndefined();
    expect(cache.get(P, F)).toBeUndefined(); // a mismatch drops the entry
    cache.set(P, F, { etag: '"p"', digests: null });
    cache.set(Q, F, { etag: '"q"', digests: null });
    cache.get(P, F); // P is now the most recently used
    cache.set('/h' as DavPath, F, { etag: '"h"', digests: null });
    expect(cache.get(Q, F)).toBeUndefined();
    expect(cache.get(P, F)?.etag).toBe('"p"');
  });
});

describe('VersionStore.currentOf with its cache', () => {
  test('a record written after a cached answer is what the next answer says', () => {
    const db = openMemoryDatabase();
    const store = new VersionStore(db);
    const derived = store.currentOf(P, F);
    expect(derived.digests).toBeNull();
    const etag = store.recordNewContent(P, F, D);
    expect(store.currentOf(P, F)).toEqual({ etag, digests: D });
    const after = { ...F, mtimeMs: 2000 };
    expect(store.recordMetadataChange(P, F, after)).toBe(etag);
    expect(store.currentOf(P, after)).toEqual({ etag, digests: D });
    store.moveSubtree(P, Q);
    expect(store.currentOf(Q, after)).toEqual({ etag, digests: D });
    expect(store.currentOf(P, after).etag).not.toBe(etag);
    store.forgetSubtree(Q);
    expect(store.currentOf(Q, after).etag).not.toBe(etag);
  });

  test('a file changed on disk is looked up again, not answered from the cache', () => {
    const store = new VersionStore(openMemoryDatabase());
    const etag = store.recordNewContent(P, F);
    expect(store.currentOf(P, F).etag).toBe(etag);
    const changed = { ...F, size: 4 };
    expect(store.currentOf(P, changed).etag).not.toBe(etag);
    expect(store.currentOf(P, F).etag).toBe(etag);
  });
});
