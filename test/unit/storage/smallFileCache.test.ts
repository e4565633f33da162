import { SmallFileCache } from '../../../src/storage/smallFileCache';
import type { ResourceStat } from '../../../src/storage/resourceStat';
import type { DavPath } from '../../../src/paths/davPath';

const NOW = 1_000_000;
function statOf(path: string, size: number, changes: Partial<ResourceStat> = {}): ResourceStat {
  return { path: path as DavPath, isCollection: false, size, mtimeMs: NOW - 10_000, ctimeMs: NOW - 10_000, birthtimeMs: 0, ino: 11, dev: 2, ...changes };
}

describe('SmallFileCache', () => {
  test('serves the bytes only while dev, inode, size, mtime and ctime are unchanged', () => {
    const cache = new SmallFileCache(16, 64);
    const stat = statOf('/a', 3);
    const bytes = Buffer.from('abc');
    expect(cache.remember(stat, bytes, NOW)).toBe(bytes);
    expect(cache.get(stat)).toBe(bytes);
    for (const change of [{ dev: 3 }, { ino: 12 }, { size: 4 }, { mtimeMs: NOW }, { ctimeMs: NOW - 9_999 }]) {
      cache.remember(stat, bytes, NOW);
      expect(cache.get(statOf('/a', 3, change))).toBeUndefined();
    }
  });

  test('keeps no file changed in the last two seconds (a write in the same tick would look unchanged), none too big, none read short', () => {
    const cache = new SmallFileCache(16, 64);
    cache.remember(statOf('/recent', 3, { ctimeMs: NOW - 1_000 }), Buffer.from('abc'), NOW);
    expect(cache.get(statOf('/recent', 3, { ctimeMs: NOW - 1_000 }))).toBeUndefined();
    cache.remember(statOf('/big', 17), Buffer.alloc(17), NOW);
    expect(cache.get(statOf('/big', 17))).toBeUndefined();
    cache.remember(statOf('/short', 5), Buffer.from('abc'), NOW);
    expect(cache.get(statOf('/short', 5))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('stays within its byte budget, dropping the least recently used', () => {
    const cache = new SmallFileCache(16, 40);
    for (const name of ['/1', '/2', '/3']) cache.remember(statOf(name, 16), Buffer.alloc(16), NOW);
    expect(cache.size).toBe(32);
    expect(cache.get(statOf('/1', 16))).toBeUndefined();
    expect(cache.get(statOf('/2', 16))).toBeDefined();
    expect(cache.get(statOf('/3', 16))).toBeDefined();
  });
});
