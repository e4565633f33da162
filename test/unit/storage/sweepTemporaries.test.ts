import { mkdtemp, mkdir, writeFile, utimes, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleTemporaries } from '../../../src/storage/sweepTemporaries';

describe('sweepStaleTemporaries', () => {
  let root: string;
  let outside: string;
  const old = new Date(Date.now() - 3600_000);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'keepdav-sweep-'));
    outside = await mkdtemp(join(tmpdir(), 'keepdav-sweep-out-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('removes stale temporary files and directories at any depth, keeps fresh ones and everything else', async () => {
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeFile(join(root, 'a', 'b', '.keepdav-tmp-dead'), 'partial upload');
    await utimes(join(root, 'a', 'b', '.keepdav-tmp-dead'), old, old);
    await mkdir(join(root, '.keepdav-tmp-copy'));
    await writeFile(join(root, '.keepdav-tmp-copy', 'member'), 'x');
    await utimes(join(root, '.keepdav-tmp-copy'), old, old);
    await writeFile(join(root, 'a', '.keepdav-tmp-live'), 'still uploading');
    await writeFile(join(root, 'a', 'kept.txt'), 'user data');
    await utimes(join(root, 'a', 'kept.txt'), old, old);

    expect(await sweepStaleTemporaries(root, 600_000)).toBe(2);
    expect((await readdir(join(root, 'a', 'b'))).sort()).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['a']);
    expect((await readdir(join(root, 'a'))).sort()).toEqual(['.keepdav-tmp-live', 'b', 'kept.txt']);
  });

  it('never follows a symlink out of the root', async () => {
    await writeFile(join(outside, '.keepdav-tmp-outside'), 'not ours');
    await utimes(join(outside, '.keepdav-tmp-outside'), old, old);
    await symlink(outside, join(root, 'link'));
    expect(await sweepStaleTemporaries(root, 600_000)).toBe(0);
    expect(await readdir(outside)).toEqual(['.keepdav-tmp-outside']);
  });
});
