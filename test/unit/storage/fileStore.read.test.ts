import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '../../../src/storage/fileStore';
import { IsACollectionError, NotACollectionError, NotFoundError } from '../../../src/storage/storageErrors';
import { freshDir, removeDir, UNUSED_KEPT_DIR } from './storageTestKit';

let dir: string;
let store: FileStore;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** mkfifo without a Node API: through the coreutils program. */
function makeFifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

beforeAll(async () => {
  dir = freshDir('read');
  store = await FileStore.open(dir, UNUSED_KEPT_DIR);
  mkdirSync(join(dir, 'docs/sub'), { recursive: true });
  writeFileSync(join(dir, 'docs/a.txt'), 'alpha');
  writeFileSync(join(dir, 'docs/b.txt'), '0123456789');
  writeFileSync(join(dir, 'docs/sub/deep.txt'), 'deep');
  writeFileSync(join(dir, 'docs/.keepdav-tmp-abcdef'), 'in-flight upload');
  mkdirSync(join(dir, 'docs/.keepdav-versions'));
  writeFileSync(join(dir, 'docs/back\\slash'), 'no URL reaches me');
  writeFileSync(Buffer.from(join(dir, 'docs/') + 'bad-\xff-name', 'latin1'), 'not utf-8');
  writeFileSync(join(dir, 'docs/ünïcødé.txt'), 'unicode');
  makeFifo(join(dir, 'docs/pipe'));
  mkdirSync(join(dir, 'reads'));
});
afterAll(() => removeDir(dir));

describe('FileStore.open', () => {
  test('resolves the root to its realpath', async () => {
    const opened = await FileStore.open(join(dir, 'docs', '..'), UNUSED_KEPT_DIR);
    expect(opened.root).toBe(store.root);
    expect(opened.hostPathOf('/docs/a.txt')).toBe(join(store.root, 'docs/a.txt'));
    expect(opened.hostPathOf('/')).toBe(store.root);
  });

  test.each([
    ['a missing directory', () => join(dir, 'nope'), NotFoundError],
    ['a file', () => join(dir, 'docs/a.txt'), NotACollectionError],
  ])('refuses %s', async (_label, rootOf, expected) => {
    await expect(FileStore.open(rootOf(), UNUSED_KEPT_DIR)).rejects.toBeInstanceOf(expected);
  });
});

describe('stat', () => {
  test('a file', async () => {
    const stat = await store.stat('/docs/b.txt');
    expect(stat).toMatchObject({ path: '/docs/b.txt', isCollection: false, size: 10 });
    expect(stat!.mtimeMs).toBeGreaterThan(0);
    expect(stat!.ino).toBeGreaterThan(0);
  });

  test('a collection has size 0', async () => {
    expect(await store.stat('/docs')).toMatchObject({ path: '/docs', isCollection: true, size: 0 });
    expect(await store.stat('/')).toMatchObject({ path: '/', isCollection: true });
  });

  test.each([
    ['a missing name', '/docs/none'],
    ['a name under a missing collection', '/none/x'],
    ['a name under a file', '/docs/a.txt/x'],
    ['a temp file', '/docs/.keepdav-tmp-abcdef'],
    ['inside a reserved collection', '/docs/.keepdav-versions/x'],
    ['a reserved collection', '/docs/.keepdav-versions'],
    ['a FIFO', '/docs/pipe'],
  ])('%s is null', async (_label, path) => {
    expect(await store.stat(path)).toBeNull();
  });

  test('a unicode name', async () => {
    expect(await store.stat('/docs/ünïcødé.txt')).toMatchObject({ size: 7 });
  });
});

describe('list', () => {
  test('lists visible members only', async () => {
    const members = await store.list('/docs');
    expect(members.map((m) => m.path).sort()).toEqual(['/docs/a.txt', '/docs/b.txt', '/docs/sub', '/docs/ünïcødé.txt']);
    expect(members.find((m) => m.path === '/docs/sub')).toMatchObject({ isCollection: true, size: 0 });
    expect(members.find((m) => m.path === '/docs/b.txt')).toMatchObject({ isCollection: false, size: 10 });
  });

  test('lists the root', async () => {
    expect((await store.list('/')).map((m) => m.path).sort()).toEqual(['/docs', '/reads']);
  });

  test('lists an empty collection', async () => {
    mkdirSync(join(dir, 'empty'));
    expect(await store.list('/empty')).toEqual([]);
  });

  test.each([
    ['a file', '/docs/a.txt', NotACollectionError],
    ['a missing collection', '/docs/none', NotFoundError],
    ['under a file', '/docs/a.txt/x', NotFoundError],
    ['a reserved collection', '/docs/.keepdav-versions', NotFoundError],
    ['a FIFO', '/docs/pipe', NotFoundError],
  ])('%s => %p', async (_label, path, expected) => {
    await expect(store.list(path)).rejects.toBeInstanceOf(expected);
  });
});

describe('openRead', () => {
  test('reads a whole file', async () => {
    expect(await readAll(await store.openRead('/docs/b.txt'))).toBe('0123456789');
  });

  test('reads an empty file', async () => {
    writeFileSync(join(dir, 'reads/empty'), '');
    expect(await readAll(await store.openRead('/reads/empty'))).toBe('');
  });

  test('serves the file as it was opened, even when replaced before the read', async () => {
    writeFileSync(join(dir, 'reads/swap'), 'first version');
    const stream = await store.openRead('/reads/swap');
    writeFileSync(join(dir, 'reads/swap.new'), 'second, longer version');
    renameSync(join(dir, 'reads/swap.new'), join(dir, 'reads/swap'));
    expect(await readAll(stream)).toBe('first version');
  });

  test('reads a file larger than one stream buffer', async () => {
    const big = Buffer.alloc(1_000_003, 'abc');
    writeFileSync(join(dir, 'reads/big'), big);
    expect(await readAll(await store.openRead('/reads/big'))).toBe(big.toString('utf8'));
  });

  test.each([
    [{ start: 0, end: 0 }, '0'],
    [{ start: 2, end: 5 }, '2345'],
    [{ start: 9, end: 9 }, '9'],
    [{ start: 7, end: 100 }, '789'],
    [{ start: 10, end: 20 }, ''],
  ])('range %p => %p', async (range, expected) => {
    expect(await readAll(await store.openRead('/docs/b.txt', range))).toBe(expected);
  });

  test.each([
    [{ start: -1, end: 3 }],
    [{ start: 4, end: 3 }],
    [{ start: 0.5, end: 3 }],
    [{ start: 0, end: Number.POSITIVE_INFINITY }],
  ])('malformed range %p => RangeError', async (range) => {
    await expect(store.openRead('/docs/b.txt', range)).rejects.toBeInstanceOf(RangeError);
  });

  test.each([
    ['/docs', IsACollectionError],
    ['/', IsACollectionError],
    ['/docs/none', NotFoundError],
    ['/docs/a.txt/x', NotFoundError],
    ['/docs/.keepdav-tmp-abcdef', NotFoundError],
    ['/docs/pipe', NotFoundError],
  ])('%s => %p', async (path, expected) => {
    await expect(store.openRead(path)).rejects.toBeInstanceOf(expected);
  });
});

describe('usage', () => {
  test('reports available space and the bytes under the root (hidden ones too), cached', async () => {
    const root = freshDir('usage');
    try {
      mkdirSync(join(root, 'a/b'), { recursive: true });
      writeFileSync(join(root, 'a/one'), '12345');
      writeFileSync(join(root, 'a/b/two'), '1234567890');
      writeFileSync(join(root, 'a/.keepdav-tmp-1'), '123');
      symlinkSync(join(root, 'a/b/two'), join(root, 'link')); // not counted twice
      let now = 1_000;
      const metered = await FileStore.open(root, UNUSED_KEPT_DIR, { now: () => now, usageCacheMs: 30_000 });
      const first = await metered.usage();
      expect(first.availableBytes).toBeGreaterThan(0);
      expect(first.usedBytes).toBe(18);
      writeFileSync(join(root, 'extra'), 'x'.repeat(100));
      expect((await metered.usage()).usedBytes).toBe(18);
      now += 30_001;
      expect((await metered.usage()).usedBytes).toBe(118);
    } finally {
      removeDir(root);
    }
  });

  test('concurrent callers share one walk', async () => {
    const root = freshDir('usage-shared');
    try {
      writeFileSync(join(root, 'f'), 'abc');
      const metered = await FileStore.open(root, UNUSED_KEPT_DIR);
      const results = await Promise.all([metered.usage(), metered.usage(), metered.usage()]);
      expect(results.map((r) => r.usedBytes)).toEqual([3, 3, 3]);
    } finally {
      removeDir(root);
    }
  });
});
