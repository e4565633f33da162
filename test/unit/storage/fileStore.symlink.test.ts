/** Containment (architecture.md rule 9): symlinks are followed only while they stay inside the root. */
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '../../../src/storage/fileStore';
import { AccessDeniedError, NotFoundError } from '../../../src/storage/storageErrors';
import { bodyOf, freshDir, removeDir, snapshot, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let outside: string;
let store: FileStore;
let outsideBefore: Record<string, string>;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  dir = freshDir('symlink-root');
  outside = freshDir('symlink-outside');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  mkdirSync(join(outside, 'secrets'));
  writeFileSync(join(outside, 'secrets/inner.txt'), 'inner secret');
  outsideBefore = snapshot(outside);

  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs/a.txt'), 'alpha');
  writeFileSync(join(dir, 'docs/.keepdav-tmp-x'), 'temp');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'out-file'));
  symlinkSync(outside, join(dir, 'out-dir'));
  symlinkSync(join('..', basename(outside)), join(dir, 'rel-out'));
  symlinkSync('docs/a.txt', join(dir, 'in-file'));
  symlinkSync(join(dir, 'docs'), join(dir, 'in-dir'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  symlinkSync('docs/.keepdav-tmp-x', join(dir, 'to-reserved'));
  symlinkSync('loop', join(dir, 'loop'));
  store = await FileStore.open(dir, UNUSED_KEPT_DIR);
});
afterEach(() => expect(snapshot(outside)).toEqual(outsideBefore));
afterAll(() => {
  removeDir(dir);
  removeDir(outside);
});

const HIDDEN = ['/out-file', '/out-dir', '/out-dir/secret.txt', '/out-dir/secrets/inner.txt', '/rel-out', '/rel-out/secret.txt', '/dangling', '/to-reserved', '/loop', '/loop/x'];

describe('reads', () => {
  test.each(HIDDEN)('stat %s is null', async (path) => {
    expect(await store.stat(path)).toBeNull();
  });

  test.each(HIDDEN)('openRead %s is NotFound', async (path) => {
    await expect(store.openRead(path)).rejects.toBeInstanceOf(NotFoundError);
  });

  test.each(['/out-dir', '/out-dir/secrets', '/rel-out', '/dangling', '/loop'])('list %s is NotFound', async (path) => {
    await expect(store.list(path)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('symlinks staying inside are followed', async () => {
    expect(await store.stat('/in-file')).toMatchObject({ isCollection: false, size: 5 });
    expect(await store.stat('/in-dir')).toMatchObject({ isCollection: true });
    expect(await store.stat('/in-dir/a.txt')).toMatchObject({ size: 5 });
    expect(await readAll(await store.openRead('/in-file'))).toBe('alpha');
    expect(await readAll(await store.openRead('/in-dir/a.txt', { start: 1, end: 2 }))).toBe('lp');
    expect((await store.list('/in-dir')).map((m) => m.path)).toEqual(['/in-dir/a.txt']);
  });

  test('the root listing leaves out every escaping, dangling or reserved link', async () => {
    const names = (await store.list('/')).map((m) => m.path).sort();
    expect(names).toEqual(['/docs', '/in-dir', '/in-file']);
  });
});

describe('writes', () => {
  test.each([
    ['writeAtomic into an escaping directory', (s: FileStore) => s.writeAtomic('/out-dir/new.txt', bodyOf('pwned'))],
    ['writeAtomic over an escaping file link', (s: FileStore) => s.writeAtomic('/out-file', bodyOf('pwned'))],
    ['writeAtomic through a relative escape', (s: FileStore) => s.writeAtomic('/rel-out/secret.txt', bodyOf('pwned'))],
    ['writeAtomic over a link to a reserved name', (s: FileStore) => s.writeAtomic('/to-reserved', bodyOf('pwned'))],
    ['createEmpty into an escaping directory', (s: FileStore) => s.createEmpty('/out-dir/new')],
    ['createEmpty over an escaping file link', (s: FileStore) => s.createEmpty('/out-file')],
    ['makeCollection into an escaping directory', (s: FileStore) => s.makeCollection('/out-dir/newdir')],
    ['makeCollection over an escaping link', (s: FileStore) => s.makeCollection('/out-dir')],
    ['remove an escaping file link', (s: FileStore) => s.remove('/out-file')],
    ['remove inside an escaping directory', (s: FileStore) => s.remove('/out-dir/secret.txt')],
    ['remove a whole escaping tree', (s: FileStore) => s.remove('/out-dir/secrets')],
    ['setModifiedTime through an escaping link', (s: FileStore) => s.setModifiedTime('/out-file', 0)],
    ['copy into an escaping directory', (s: FileStore) => s.copy('/docs/a.txt', '/out-dir/copied', 'infinity')],
    ['move into an escaping directory', (s: FileStore) => s.move('/docs/a.txt', '/out-dir/moved')],
    ['move an escaping link', (s: FileStore) => s.move('/out-file', '/stolen')],
    ['move out of an escaping directory', (s: FileStore) => s.move('/out-dir/secret.txt', '/stolen')],
  ])('%s is AccessDenied and changes nothing', async (_label, act) => {
    const before = snapshot(dir, true);
    await expect(act(store)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(snapshot(dir, true)).toEqual(before);
  });

  test('copy from an escaping directory is NotFound', async () => {
    await expect(store.copy('/out-dir', '/stolen', 'infinity')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.copy('/out-file', '/stolen', '0')).rejects.toBeInstanceOf(NotFoundError);
    expect(existsSync(join(dir, 'stolen'))).toBe(false);
  });

  test('copying a tree leaves out links that escape', async () => {
    mkdirSync(join(dir, 'mixed'));
    writeFileSync(join(dir, 'mixed/own.txt'), 'own');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'mixed/leak'));
    symlinkSync(outside, join(dir, 'mixed/leak-dir'));
    await store.copy('/mixed', '/mixed-copy', 'infinity');
    expect(snapshot(join(dir, 'mixed-copy'), true)).toEqual({ 'own.txt': 'own' });
  });

  test('a write through an inside link updates the target and keeps the link', async () => {
    const { created } = await store.writeAtomic('/in-file', bodyOf('ALPHA!'));
    expect(created).toBe(false);
    expect(lstatSync(join(dir, 'in-file')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'docs/a.txt'), 'utf8')).toBe('ALPHA!');
    await store.writeAtomic('/in-dir/b.txt', bodyOf('beta'));
    expect(readFileSync(join(dir, 'docs/b.txt'), 'utf8')).toBe('beta');
  });

  test('a dangling link behaves as missing: a write replaces it with a file', async () => {
    symlinkSync('gone', join(dir, 'dangling-put'));
    const { created } = await store.writeAtomic('/dangling-put', bodyOf('now real'));
    expect(created).toBe(true);
    expect(lstatSync(join(dir, 'dangling-put')).isFile()).toBe(true);
    symlinkSync('gone', join(dir, 'dangling-mkcol'));
    await store.makeCollection('/dangling-mkcol');
    expect(lstatSync(join(dir, 'dangling-mkcol')).isDirectory()).toBe(true);
  });

  test('removing an inside link leaves its target alone', async () => {
    symlinkSync('docs', join(dir, 'in-dir-2'));
    await store.remove('/in-dir-2');
    expect(existsSync(join(dir, 'in-dir-2'))).toBe(false);
    expect(readFileSync(join(dir, 'docs/a.txt'), 'utf8')).toBe('ALPHA!');
  });
});

describe('the containment cache', () => {
  test('reads trust a checked directory for the TTL only; writes never do', async () => {
    const root = freshDir('symlink-cache');
    try {
      mkdirSync(join(root, 'shared'));
      writeFileSync(join(root, 'shared/secret.txt'), 'own file');
      let now = 0;
      const cached = await FileStore.open(root, UNUSED_KEPT_DIR, { containmentCacheMs: 1000, now: () => now });
      const uncached = await FileStore.open(root, UNUSED_KEPT_DIR, { containmentCacheMs: 0 });
      expect(await cached.stat('/shared/secret.txt')).not.toBeNull();
      // Outside the server, the checked directory is swapped for a link leading out.
      renameSync(join(root, 'shared'), join(root, 'moved-away'));
      symlinkSync(outside, join(root, 'shared'));
      expect(await uncached.stat('/shared/secret.txt')).toBeNull();
      await expect(cached.writeAtomic('/shared/x', bodyOf('x'))).rejects.toBeInstanceOf(AccessDeniedError);
      now += 1001;
      expect(await cached.stat('/shared/secret.txt')).toBeNull();
    } finally {
      removeDir(root);
    }
  });

  test('our own move clears the cache at once', async () => {
    // root/deep/L -> ../<outside name> names root/<outside name> (inside) while in /deep, but the
    // real outside directory once moved up to the root.
    const root = freshDir('symlink-move');
    try {
      mkdirSync(join(root, basename(outside)));
      writeFileSync(join(root, basename(outside), 'secret.txt'), 'inside twin');
      mkdirSync(join(root, 'x'));
      writeFileSync(join(root, 'x/secret.txt'), 'plain');
      mkdirSync(join(root, 'deep'));
      symlinkSync(join('..', basename(outside)), join(root, 'deep/L'));
      const s = await FileStore.open(root, UNUSED_KEPT_DIR, { containmentCacheMs: 60_000 });
      expect(await s.stat('/deep/L/secret.txt')).toMatchObject({ size: 'inside twin'.length });
      expect(await s.stat('/x/secret.txt')).toMatchObject({ size: 'plain'.length }); // '/x' now cached
      renameSync(join(root, 'x'), join(root, 'x-old'));
      await s.move('/deep/L', '/x');
      expect(lstatSync(join(root, 'x')).isSymbolicLink()).toBe(true);
      expect(await s.stat('/x/secret.txt')).toBeNull();
      await expect(s.openRead('/x/secret.txt')).rejects.toBeInstanceOf(NotFoundError);
      expect(await s.stat('/x')).toBeNull();
    } finally {
      removeDir(root);
    }
  });

  test('a root opened through a symlink is its realpath', async () => {
    const holder = freshDir('symlink-alias');
    try {
      const alias = join(holder, 'root-alias');
      symlinkSync(dir, alias);
      const s = await FileStore.open(alias, UNUSED_KEPT_DIR);
      expect(s.root).toBe(store.root);
      expect(statSync(s.hostPathOf('/docs')).isDirectory()).toBe(true);
    } finally {
      removeDir(holder);
    }
  });
});
