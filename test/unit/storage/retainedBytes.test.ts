/**
 * RetainedBytes on a real filesystem: a key's directory is created when the first version of its
 * second arrives (the link is tried first), and removing a key leaves no file, partial copy or
 * empty directory behind, whether the key is one file or a bundle. The key directory is removed
 * with its last entry: where a sole writer made it, it is tried only then (a spy counts rmdir);
 * and a sole writer that has swept looks for no partial copy.
 */
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RetainedBytes } from '../../../src/storage/retainedBytes';
import { freshDir, removeDir } from './storageTestKit';

// The module object itself (an ES namespace import cannot be spied on): retainedBytes.ts calls through it.
const fsPromises: typeof import('node:fs/promises') = require('node:fs/promises');

describe('RetainedBytes', () => {
  let base: string;
  let dir: string;
  let bytes: RetainedBytes;

  beforeEach(() => {
    base = freshDir('retained');
    dir = join(base, 'retained');
    bytes = new RetainedBytes(dir, { soleWriter: true });
  });
  afterEach(() => removeDir(base));

  const source = async (name: string, content: string): Promise<string> => {
    const host = join(base, name);
    await writeFile(host, content);
    return host;
  };

  it('links a version in, creating the retention directory and the key directory only when they are missing', async () => {
    const first = await source('a.txt', 'first');
    const second = await source('b.txt', 'second');
    await bytes.linkIn(first, bytes.keyOf('00000001aaaaaaaaaaaaaaaa'));
    await bytes.linkIn(second, bytes.keyOf('00000001bbbbbbbbbbbbbbbb'));
    expect((await readdir(join(dir, '00000001'))).sort()).toEqual(['00000001aaaaaaaaaaaaaaaa', '00000001bbbbbbbbbbbbbbbb']);
    // A hard link: the same inode as the file it keeps.
    expect((await stat(join(dir, '00000001', '00000001aaaaaaaaaaaaaaaa'))).ino).toBe((await stat(first)).ino);
    expect(await readFile(join(dir, '00000001', '00000001bbbbbbbbbbbbbbbb'), 'utf8')).toBe('second');
  });

  it('says ENOENT for a source that is gone, and keeps nothing under the key', async () => {
    await expect(bytes.linkIn(join(base, 'missing.txt'), bytes.keyOf('00000002aaaaaaaaaaaaaaaa'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await bytes.fingerprint(bytes.keyOf('00000002aaaaaaaaaaaaaaaa'))).toBeNull();
  });

  it('moves a tree in under a key whose directory is missing', async () => {
    await mkdir(join(base, 'tree', 'sub'), { recursive: true });
    await writeFile(join(base, 'tree', 'sub', 'm.txt'), 'member');
    const key = bytes.keyOf('00000003aaaaaaaaaaaaaaaa');
    await bytes.moveIn(join(base, 'tree'), key);
    expect((await bytes.files(key)).map((f) => f.below)).toEqual(['sub/m.txt']);
  });

  it('removes a single version and then its emptied directory, keeping a directory other versions still use', async () => {
    const keyA = bytes.keyOf('00000004aaaaaaaaaaaaaaaa');
    const keyB = bytes.keyOf('00000004bbbbbbbbbbbbbbbb');
    await bytes.linkIn(await source('a.txt', 'a'), keyA);
    await bytes.linkIn(await source('b.txt', 'b'), keyB);
    await bytes.remove(keyA);
    expect(await readdir(join(dir, '00000004'))).toEqual(['00000004bbbbbbbbbbbbbbbb']);
    await bytes.remove(keyB);
    expect(await readdir(dir)).toEqual([]);
    // Removing what is already gone is no error.
    await bytes.remove(keyB);
  });

  it('removes a bundle (a tree under its key) and a partial copy left beside a key', async () => {
    await mkdir(join(base, 'tree', 'sub'), { recursive: true });
    await writeFile(join(base, 'tree', 'sub', 'm.txt'), 'member');
    const bundle = bytes.keyOf('00000005aaaaaaaaaaaaaaaa');
    await bytes.moveIn(join(base, 'tree'), bundle);
    const copied = bytes.keyOf('00000005bbbbbbbbbbbbbbbb');
    // What a copy across filesystems leaves when it fails half-way.
    await writeFile(join(dir, '00000005', '00000005bbbbbbbbbbbbbbbb.partial'), 'half');
    await bytes.remove(bundle);
    expect(await readdir(join(dir, '00000005'))).toEqual(['00000005bbbbbbbbbbbbbbbb.partial']);
    await bytes.remove(copied);
    expect(await readdir(dir)).toEqual([]);
  });

  describe('removing a key directory', () => {
    let rmdirs: jest.SpyInstance;
    beforeEach(() => {
      rmdirs = jest.spyOn(fsPromises, 'rmdir');
    });
    afterEach(() => rmdirs.mockRestore());

    const keys = (second: string) => ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'].map((r) => bytes.keyOf(second + r));

    it('that this instance made: tried only when its last entry goes, whatever the order', async () => {
      const [a, b, c] = keys('00000006');
      await bytes.linkIn(await source('a.txt', 'a'), a);
      await mkdir(join(base, 'tree'));
      await bytes.moveIn(join(base, 'tree'), b);
      await bytes.linkIn(await source('c.txt', 'c'), c);
      await bytes.remove(b);
      await bytes.remove(a);
      expect(rmdirs).not.toHaveBeenCalledWith(join(dir, '00000006'));
      expect((await readdir(join(dir, '00000006'))).length).toBe(1);
      await bytes.remove(c);
      expect(rmdirs.mock.calls.filter(([at]) => at === join(dir, '00000006'))).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
      // Made again by the next version of that second, and counted again.
      await bytes.linkIn(await source('a.txt', 'again'), a);
      expect(await readFile(join(dir, '00000006', '00000006aaaaaaaaaaaaaaaa'), 'utf8')).toBe('again');
      await bytes.remove(a);
      expect(await readdir(dir)).toEqual([]);
    });

    it('that this instance did not make (a restart): tried on every removal, and removed with its last entry', async () => {
      const [a, b] = keys('00000007');
      await new RetainedBytes(dir).linkIn(await source('a.txt', 'a'), a);
      await new RetainedBytes(dir).linkIn(await source('b.txt', 'b'), b);
      await bytes.remove(a);
      expect(rmdirs).toHaveBeenCalledWith(join(dir, '00000007'));
      await bytes.remove(b);
      expect(await readdir(dir)).toEqual([]);
    });

    it('that holds an entry it did not count (a partial copy): the try fails, and the last removal still takes it', async () => {
      const [a, b] = keys('00000008');
      await bytes.linkIn(await source('a.txt', 'a'), a);
      await writeFile(join(dir, '00000008', 'stray'), 'not counted');
      await bytes.remove(a);
      expect(await readdir(join(dir, '00000008'))).toEqual(['stray']);
      await bytes.linkIn(await source('b.txt', 'b'), b);
      await unlink(join(dir, '00000008', 'stray'));
      await bytes.remove(b);
      expect(await readdir(dir)).toEqual([]);
    });

    it('where others write too (not a sole writer): tried on every removal, and removed with its last entry', async () => {
      const shared = new RetainedBytes(dir);
      const [a, b] = keys('00000009');
      await shared.linkIn(await source('a.txt', 'a'), a);
      await shared.linkIn(await source('b.txt', 'b'), b);
      await shared.remove(a);
      expect(rmdirs).toHaveBeenCalledWith(join(dir, '00000009'));
      await shared.remove(b);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('a sole writer that has swept looks for no partial copy beside a key; one that has not, or shares, does', async () => {
    const key = bytes.keyOf('0000000aaaaaaaaaaaaaaaaa');
    const stray = join(dir, '0000000a', '0000000aaaaaaaaaaaaaaaaa.partial');
    await bytes.linkIn(await source('a.txt', 'a'), key);
    await bytes.sweep(new Set([key]));
    await writeFile(stray, 'put here behind its back');
    await bytes.linkIn(await source('b.txt', 'b'), bytes.keyOf('0000000abbbbbbbbbbbbbbbb'));
    await bytes.remove(key);
    expect(await readdir(join(dir, '0000000a'))).toEqual(['0000000aaaaaaaaaaaaaaaaa.partial', '0000000abbbbbbbbbbbbbbbb']);
    await bytes.linkIn(await source('a.txt', 'a'), key);
    await new RetainedBytes(dir).remove(key);
    expect(await readdir(join(dir, '0000000a'))).toEqual(['0000000abbbbbbbbbbbbbbbb']);
  });
});
