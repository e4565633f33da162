/** derivedTag: the ETag of a file without a version record, from its fingerprint alone. */
import { derivedTag } from '../../../src/storage/resourceStat';

/** The tag as first defined: every part in base 36. */
function reference(ino: number, size: number, mtimeMs: number): string {
  return `"${ino.toString(36)}-${size.toString(36)}-${Math.round(mtimeMs * 1000).toString(36)}"`;
}

test('is the base-36 ino, size and mtime in microseconds, for small, large and negative times', () => {
  const times = [0, 0.001, 1, 60.466175, 60.466176, 60.466177, 1764884000123.4567, 2 ** 40 + 0.5, 9007199254740.991, -1, -1764884000123.25];
  for (const mtimeMs of times) {
    for (const [ino, size] of [[1, 0], [123456789, 4096], [2 ** 40, 2 ** 33]]) {
      expect(derivedTag({ ino, size, mtimeMs })).toBe(reference(ino, size, mtimeMs));
    }
  }
});

test('changes whenever the fingerprint does', () => {
  const base = { ino: 42, size: 7, mtimeMs: 1764884000123.456 };
  const tags = new Set([base, { ...base, ino: 43 }, { ...base, size: 8 }, { ...base, mtimeMs: base.mtimeMs + 0.001 }].map(derivedTag));
  expect(tags.size).toBe(4);
});
