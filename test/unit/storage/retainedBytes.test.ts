/**
 * RetainedBytes on a real filesystem: a key's directory is created when the first version of its
 * second arrives (the link is tried first), and removing a key leaves no file, partial copy or
 * empty directory behind, whether the key is one file or a bundle.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RetainedBytes } from '../../../src/storage/retainedBytes';
import { freshDir, removeDir } from './storageTestKit';

describe('RetainedBytes', () => {
  let base: string;
  let dir: string;
  let bytes: RetainedBytes;

  beforeEach(() => {
    base = freshDir('retained');
    dir = join(base, 'retained');
    bytes = new RetainedBytes(dir);
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
});
