/** KeyDirectoryCounts (src/storage/keyDirectoryCounts.ts): a hint of which key directory a removal may have emptied. */
import { KeyDirectoryCounts } from '../../../src/storage/keyDirectoryCounts';

describe('KeyDirectoryCounts', () => {
  it('says a counted directory may be empty only with its last entry, and then stops counting it', () => {
    const counts = new KeyDirectoryCounts();
    counts.created('d');
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
    const counts = new KeyDirectoryCounts();
    for (const d of ['a', 'b']) {
      counts.created(d);
      counts.placed(d);
      counts.placed(d);
    }
    counts.forget('a');
    expect(counts.removedMayEmpty('a')).toBe(true);
    expect(counts.removedMayEmpty('b')).toBe(false);
    counts.forgetAll();
    expect(counts.removedMayEmpty('b')).toBe(true);
  });

  it('counts at most `limit` directories, dropping the one counted longest', () => {
    const counts = new KeyDirectoryCounts(2);
    for (const d of ['a', 'b', 'c']) {
      counts.created(d);
      counts.placed(d);
      counts.placed(d);
    }
    expect(counts.size).toBe(2);
    expect(counts.removedMayEmpty('a')).toBe(true); // dropped: no longer counted
    expect(counts.removedMayEmpty('b')).toBe(false);
    expect(counts.removedMayEmpty('c')).toBe(false);
  });
});
