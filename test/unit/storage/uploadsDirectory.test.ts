/**
 * uploadsDirectory.ts and atomicWrite.ts: an upload's temporary is created in the store's uploads
 * directory (outside the tree) and renamed into its target's directory, which never sees it; a
 * directory on another filesystem gets its temporaries beside the target, and so does every write
 * when the uploads directory is on another filesystem than the root; a rename refused with EXDEV
 * is completed by a copy beside the target, durable, with the mode and mtime asked for; a missing
 * uploads directory sends the write beside its target and is made again; a crash's leftovers in
 * it are swept at start, the directory stays.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FileStore } from '../../../src/storage/fileStore';
import { writeAtomically } from '../../../src/storage/atomicWrite';
import { UploadsDirectory } from '../../../src/storage/uploadsDirectory';
import { bodyOf, freshDir, otherFilesystem, removeDir, tempFilesUnder, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let uploads: string;
let store: FileStore;
beforeAll(async () => {
  const base = freshDir('uploads');
  dir = join(base, 'root');
  uploads = join(base, 'state', 'uploads');
  mkdirSync(dir);
  store = await FileStore.open(dir, UNUSED_KEPT_DIR, { uploadsDir: uploads });
});
afterAll(() => removeDir(join(dir, '..')));

describe('the uploads directory', () => {
  it('holds a write\'s temporary until the rename; the file lands in its own directory, the tree never shows a temporary', async () => {
    mkdirSync(join(dir, 'docs'));
    const body = new PassThrough();
    const writing = store.writeAtomic('/docs/a.txt', body);
    body.write('first part ');
    // Up to 20 s: on a machine whose disk is busy (CI runs a multi-GiB upload beside this), making
    // the directory and its trial rename took longer than the 1 s this waited before.
    for (const until = Date.now() + 20_000; Date.now() < until && !(existsSync(uploads) && readdirSync(uploads).length > 0); ) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync(uploads)).toEqual([expect.stringMatching(/^\.keepdav-tmp-[0-9a-f]{16}$/)]);
    expect(readdirSync(join(dir, 'docs'))).toEqual([]); // nothing beside the target meanwhile
    body.end('and the rest');
    await writing;
    expect(readFileSync(join(dir, 'docs', 'a.txt'), 'utf8')).toBe('first part and the rest');
    expect(readdirSync(uploads)).toEqual([]);
    expect(tempFilesUnder(dir)).toEqual([]);
    expect(readdirSync(dir)).toEqual(['docs']);
  });

  it('removed while the server runs, it is made again; the write meanwhile goes beside its target', async () => {
    rmSync(uploads, { recursive: true });
    await store.writeAtomic('/docs/b.txt', bodyOf('beside'));
    expect(readFileSync(join(dir, 'docs', 'b.txt'), 'utf8')).toBe('beside');
    await store.writeAtomic('/docs/c.txt', bodyOf('uploads again'));
    expect(existsSync(uploads)).toBe(true);
    expect(tempFilesUnder(dir)).toEqual([]);
    expect(readdirSync(uploads)).toEqual([]);
  });

  it('a crash\'s temporaries in it and in the tree are swept; the directory stays', async () => {
    const leftover = join(uploads, '.keepdav-tmp-00112233aabbccdd');
    writeFileSync(leftover, 'half an upload');
    writeFileSync(join(dir, 'docs', '.keepdav-tmp-44556677aabbccdd'), 'an older one, beside its target');
    expect(await store.sweepTemporaries(-Infinity)).toBe(2);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(uploads)).toBe(true);
    expect(tempFilesUnder(dir)).toEqual([]);
  });
});

describe('UploadsDirectory.tempDirFor', () => {
  it('names the uploads directory for a directory on its filesystem, the directory itself after a refused rename or on another filesystem', async () => {
    const base = await mkdtemp(join(dir, '..', 'case-'));
    const root = join(base, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    const own = join(base, 'state', 'uploads');
    const uploadsDir = new UploadsDirectory(own, root);
    expect(await uploadsDir.tempDirFor(join(root, 'sub'))).toBe(own);
    expect(readdirSync(root)).toEqual(['sub']); // the trial rename left nothing
    mkdirSync(join(root, 'shared'));
    chmodSync(join(root, 'shared'), 0o2775); // set-group-ID: new files there take its group
    expect(await uploadsDir.tempDirFor(join(root, 'shared'))).toBe(join(root, 'shared'));
    uploadsDir.renameRefused(join(root, 'sub'));
    expect(await uploadsDir.tempDirFor(join(root, 'sub'))).toBe(join(root, 'sub'));
    expect(await uploadsDir.tempDirFor(root)).toBe(own);
    const other = otherFilesystem(root);
    if (other === null) console.warn('no second filesystem (/dev/shm, /run): the other-device cases are not tested');
    else {
      expect(await uploadsDir.tempDirFor(other)).toBe(other);
      // an uploads directory on another filesystem than the root is not used at all
      const away = new UploadsDirectory(join(other, 'uploads'), root);
      expect(await away.tempDirFor(join(root, 'sub'))).toBe(join(root, 'sub'));
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('one that cannot be made (a file in its place) sends writes beside their targets', async () => {
    const base = await mkdtemp(join(dir, '..', 'case-'));
    mkdirSync(join(base, 'root'));
    writeFileSync(join(base, 'uploads'), 'not a directory');
    expect(await new UploadsDirectory(join(base, 'uploads'), join(base, 'root')).tempDirFor(join(base, 'root'))).toBe(join(base, 'root'));
  });
});

describe('a rename refused with EXDEV', () => {
  it('is completed by a durable copy beside the target, with the mode and mtime asked for, leaving no temporary', async () => {
    const target = await mkdtemp(join(dir, '..', 'target-'));
    const elsewhere = otherFilesystem(target);
    if (elsewhere === null) {
      console.warn('no second filesystem (/dev/shm, /run): the EXDEV copy is not tested');
      return;
    }
    writeFileSync(join(target, 'f.txt'), 'old');
    let refused = 0;
    const outcome = await writeAtomically({
      path: '/f.txt', body: bodyOf('new content'), dirHost: target, targetHost: join(target, 'f.txt'),
      tempDirHost: elsewhere, renameRefused: () => refused++, mode: 0o640, mtimeMs: 1_600_000_000_000,
    });
    expect(refused).toBe(1);
    const s = statSync(join(target, 'f.txt'));
    expect(readFileSync(join(target, 'f.txt'), 'utf8')).toBe('new content');
    expect(s.mode & 0o777).toBe(0o640);
    expect(s.mtimeMs).toBe(1_600_000_000_000);
    expect(outcome.stats.ino).toBe(s.ino); // the stats of the file in place, not of the temporary
    expect(readdirSync(target)).toEqual(['f.txt']);
    expect(readdirSync(elsewhere)).toEqual([]);
    rmSync(elsewhere, { recursive: true, force: true });
  });
});
