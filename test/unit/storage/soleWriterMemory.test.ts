/** SoleWriterMemory (src/storage/soleWriterMemory.ts): a hint of which key directory a removal may have emptied. */
import { SoleWriterMemory } from '../../../src/storage/soleWriterMemory';

describe('SoleWriterMemory', () => {
  it('says a counted directory may be empty only with its last entry, and then stops counting it', () => {
    const counts = new SoleWriterMemory();
    counts.directoryMade('d');
    counts.placed('d');
    counts.placed('d');
    expect(counts.removedMayEmpty('d')).toBe(false);
    expect(counts.removedMayEmpty('d')).toBe(true);
    expect(counts.size).toBe(0);
    // Not counted (any more): every removal may have emptied it.
    expect(counts.removedMayEmpty('d')).toBe(true);
    counts.placed('d');
    expect(counts.removedMayEmpty('d')).toBe(true);
  });

  it('forgets a directory that was not as counted, and all of them after a sweep', () => {
    const counts = new SoleWriterMemory();
    for (const d of ['a', 'b']) {
      counts.directoryMade(d);
      counts.placed(d);
      counts.placed(d);
    }
    counts.forget('a');
    expect(counts.removedMayEmpty('a')).toBe(true);
    expect(counts.removedMayEmpty('b')).toBe(false);
    counts.swept();
    expect(counts.removedMayEmpty('b')).toBe(true);
  });

  it('counts at most `limit` directories, dropping the one counted longest', () => {
    const counts = new SoleWriterMemory(2);
    for (const d of ['a', 'b', 'c']) {
      counts.directoryMade(d);
      counts.placed(d);
      counts.placed(d);
    }
    expect(counts.size).toBe(2);
    expect(counts.removedMayEmpty('a')).toBe(true); // dropped: no longer counted
    expect(counts.removedMayEmpty('b')).toBe(false);
    expect(counts.removedMayEmpty('c')).toBe(false);
  });
});
