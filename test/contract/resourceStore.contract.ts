/**
 * The contract of ResourceStore (src/storage/resourceStore.ts): what every implementation must do,
 * seen only through the interface. An implementation's test file calls
 * `describeResourceStoreContract(name, open)`, `open` giving a fresh, empty store per test.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { OFFLOAD_MIN_BYTES } from '../../src/storage/contentDigests';
import type { ResourceStore } from '../../src/storage/resourceStore';
import { BadPathError, type DavPath } from '../../src/paths/davPath';
import {
  AccessDeniedError, AlreadyExistsError, IncompleteBodyError, NotFoundError, ParentMissingError, ReplacedMeanwhileError,
} from '../../src/storage/storageErrors';

export interface ContractSubject {
  store: ResourceStore;
  /**
   * Makes `link` an alias of the existing file `target` that a write through it writes the
   * target (FileStore: a symbolic link), so the contract can check what keeping it keeps.
   */
  makeSymlink(link: DavPath, target: DavPath): Promise<void>;
  /** Frees whatever the subject holds. */
  close(): Promise<void>;
}

function body(content: string | Buffer): Readable {
  return Readable.from([Buffer.from(content)], { objectMode: false });
}

/** A body of `chunks` chunks of `size` bytes of `fill`, one per turn of the event loop (a slow upload). */
function slowBody(fill: string, chunks: number, size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (sent === chunks) this.push(null);
        else {
          sent += 1;
          this.push(Buffer.alloc(size, fill));
        }
      });
    },
  });
}

async function text(stream: Readable | null): Promise<string> {
  if (stream === null) throw new Error('no stream');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The tree under `path` as path => 'collection' | content, read through the store. */
async function treeOf(store: ResourceStore, path: DavPath): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const member of await store.list(path)) {
    if (member.isCollection) {
      out[member.path] = 'collection';
      Object.assign(out, await treeOf(store, member.path));
    } else out[member.path] = await text(await store.openRead(member.path));
  }
  return out;
}

export function describeResourceStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`ResourceStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ResourceStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(() => subject.close());

    async function put(path: DavPath, content: string): Promise<void> {
      await store.writeAtomic(path, body(content));
    }

    async function sampleTree(): Promise<void> {
      await store.makeCollection('/d');
      await store.makeCollection('/d/sub');
      await put('/d/a.txt', 'alpha');
      await put('/d/sub/b.txt', 'beta');
      await store.setModifiedTime('/d/a.txt', 1_600_000_000_000);
    }

    describe('the served tree', () => {
      it('writes, stats, reads (ranges too) and lists a file, with its digests', async () => {
        const written = await store.writeAtomic('/f.txt', body('hello world'), { expectedLength: 11, mtimeMs: 1_700_000_000_000 });
        expect(written.created).toBe(true);
        expect(written.digests).toEqual({
          sha1: createHash('sha1').update('hello world').digest('hex'),
          md5: createHash('md5').update('hello world').digest('hex'),
        });
        expect(await store.stat('/f.txt')).toMatchObject({ path: '/f.txt', isCollection: false, size: 11, mtimeMs: 1_700_000_000_000 });
        expect(await text(await store.openRead('/f.txt'))).toBe('hello world');
        expect(await text(await store.openRead('/f.txt', { start: 6, end: 10 }))).toBe('world');
        expect((await store.readSmall('/f.txt', 1024)).toString()).toBe('hello world');
        expect((await store.list('/')).map((m) => m.path)).toEqual(['/f.txt']);
        expect((await store.writeAtomic('/f.txt', body('again'))).created).toBe(false);
        expect(await store.stat('/missing')).toBeNull();
      });

      it('a large body is hashed on the way in only for what is asked, and read back by readBackDigests with the stat it was read under', async () => {
        const large = Buffer.alloc(OFFLOAD_MIN_BYTES + 5, 'k');
        const hex = (alg: string) => createHash(alg).update(large).digest('hex');
        const later = await store.writeAtomic('/large.bin', Readable.from([large]), { expectedLength: large.length });
        expect(later.digests).toBeNull();
        const sha1Asked = await store.writeAtomic('/sha1.bin', Readable.from([large]), { expectedLength: large.length, digestsNow: 'sha1' });
        expect(sha1Asked.digests).toEqual({ sha1: hex('sha1'), md5: null });
        const asked = await store.writeAtomic('/asked.bin', Readable.from([large]), { expectedLength: large.length, digestsNow: 'sha1+md5' });
        expect(asked.digests).toEqual({ sha1: hex('sha1'), md5: hex('md5') });
        const small = await store.writeAtomic('/small.bin', Readable.from([Buffer.from('k')]), { expectedLength: 1 });
        expect(small.digests).toEqual({ sha1: createHash('sha1').update('k').digest('hex'), md5: createHash('md5').update('k').digest('hex') });
        const read = await store.readBackDigests('/large.bin');
        expect(read).toEqual({ sha1: hex('sha1'), md5: hex('md5'), ino: later.stat.ino, size: later.stat.size, mtimeMs: later.stat.mtimeMs });
        expect(await store.readBackDigests('/missing.bin')).toBeNull();
        await store.makeCollection('/coll');
        expect(await store.readBackDigests('/coll')).toBeNull();
        expect(await store.readBackDigests('/')).toBeNull();
      });

      it('an atomic write is never torn: readers meanwhile see the old content or the new, whole', async () => {
        const size = 64 * 1024;
        await store.writeAtomic('/big', Readable.from([Buffer.alloc(size * 16, 'o')], { objectMode: false }));
        const seen = new Set<string>();
        let writing = true;
        const write = store.writeAtomic('/big', slowBody('n', 16, size)).finally(() => { writing = false; });
        while (writing) {
          const content = await text(await store.openRead('/big'));
          seen.add(content === 'o'.repeat(size * 16) ? 'old' : content === 'n'.repeat(size * 16) ? 'new' : `torn (${content.length} bytes)`);
        }
        await write;
        seen.add((await text(await store.openRead('/big'))) === 'n'.repeat(size * 16) ? 'new' : 'torn');
        expect([...seen].filter((s) => s !== 'old' && s !== 'new')).toEqual([]);
        expect(seen.has('new')).toBe(true);
      });

      it('a read expecting a version the path no longer holds throws ReplacedMeanwhileError; the version it holds is read', async () => {
        await put('/f.txt', 'first');
        const first = (await store.stat('/f.txt'))!;
        await put('/f.txt', 'other');
        const current = (await store.stat('/f.txt'))!;
        // Same size, another file: what a GET racing a PUT would otherwise send under the first one's ETag.
        await expect(store.readSmall('/f.txt', 1024, first)).rejects.toBeInstanceOf(ReplacedMeanwhileError);
        await expect(store.openRead('/f.txt', undefined, first)).rejects.toBeInstanceOf(ReplacedMeanwhileError);
        await expect(store.openRead('/f.txt', { start: 0, end: 1 }, first)).rejects.toBeInstanceOf(ReplacedMeanwhileError);
        expect((await store.readSmall('/f.txt', 1024, current)).toString()).toBe('other');
        expect(await text(await store.openRead('/f.txt', undefined, current))).toBe('other');
        expect(await text(await store.openRead('/f.txt', { start: 1, end: 2 }, current))).toBe('th');
      });

      it('a write whose body falls short leaves the old content and no visible temporary', async () => {
        await put('/f.txt', 'old');
        await expect(store.writeAtomic('/f.txt', body('ne'), { expectedLength: 3 })).rejects.toBeInstanceOf(IncompleteBodyError);
        expect(await text(await store.openRead('/f.txt'))).toBe('old');
        expect((await store.list('/')).map((m) => m.path)).toEqual(['/f.txt']);
      });

      it('creates empty files and collections once, under an existing parent only', async () => {
        expect(await store.createEmpty('/e')).toMatchObject({ size: 0, isCollection: false });
        await expect(store.createEmpty('/e')).rejects.toBeInstanceOf(AlreadyExistsError);
        await store.makeCollection('/c');
        await expect(store.makeCollection('/c')).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.makeCollection('/x/y')).rejects.toBeInstanceOf(ParentMissingError);
        await expect(store.writeAtomic('/x/y', body('1'))).rejects.toBeInstanceOf(ParentMissingError);
        expect(await store.stat('/c')).toMatchObject({ isCollection: true });
      });

      it('lists in batches exactly what list lists', async () => {
        await store.makeCollection('/many');
        for (let i = 0; i < 25; i++) await put(`/many/f${i}`, String(i));
        const batches = await store.listInBatches('/many', 10);
        const seen: string[] = [];
        for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
          expect(batch.length).toBeLessThanOrEqual(10);
          seen.push(...batch.map((m) => m.path));
        }
        await batches.close();
        expect(seen.sort()).toEqual((await store.list('/many')).map((m) => m.path).sort());
        expect(seen).toHaveLength(25);
        await expect(store.list('/many/f1')).rejects.toThrow();
        await expect(store.list('/nowhere')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('copies a tree (depth infinity or 0), moves it, and removes it', async () => {
        await sampleTree();
        const original = await treeOf(store, '/d');
        await store.copy('/d', '/copy', 'infinity');
        const renamed = (tree: Record<string, string>, to: string) =>
          Object.fromEntries(Object.entries(tree).map(([p, v]) => [to + p.slice('/d'.length), v]));
        expect(await treeOf(store, '/copy')).toEqual(renamed(original, '/copy'));
        expect((await store.stat('/copy/a.txt'))!.mtimeMs).toBe(1_600_000_000_000);
        await store.copy('/d', '/shallow', '0');
        expect(await store.list('/shallow')).toEqual([]);
        await expect(store.copy('/d', '/copy', 'infinity')).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.copy('/d', '/d/sub/inside', 'infinity')).rejects.toBeInstanceOf(AccessDeniedError);

        await store.move('/d', '/moved');
        expect(await store.stat('/d')).toBeNull();
        expect(await treeOf(store, '/moved')).toEqual(renamed(original, '/moved'));
        await expect(store.move('/moved', '/copy')).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.move('/nothing', '/else')).rejects.toBeInstanceOf(NotFoundError);

        await store.remove('/moved');
        expect(await store.stat('/moved')).toBeNull();
        expect(await store.stat('/moved/sub/b.txt')).toBeNull();
        await expect(store.remove('/moved')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.remove('/')).rejects.toBeInstanceOf(AccessDeniedError);
      });

      it('refuses paths with "..", ".", NUL or "\\", and hides and refuses reserved names', async () => {
        for (const bad of ['/a/../b', '/..', '/a/./b', '/a\u0000b', '/a\\b', 'relative', '/a//b']) {
          await expect(store.stat(bad)).rejects.toBeInstanceOf(BadPathError);
          await expect(store.writeAtomic(bad, body('x'))).rejects.toBeInstanceOf(BadPathError);
          await expect(store.remove(bad)).rejects.toBeInstanceOf(BadPathError);
          await expect(store.keepVersion(bad, store.keptKeyOf('0123456789abcdef'))).rejects.toBeInstanceOf(BadPathError);
        }
        await expect(store.writeAtomic('/.keepdav-x', body('x'))).rejects.toBeInstanceOf(AccessDeniedError);
        await expect(store.makeCollection('/.keepdav-d')).rejects.toBeInstanceOf(AccessDeniedError);
        expect(await store.stat('/.keepdav-x')).toBeNull();
        expect(await store.list('/')).toEqual([]);
      });
    });

    describe('kept bytes', () => {
      it('keeping a version keeps the current bytes; the file stays served', async () => {
        await put('/f.txt', 'old bytes');
        const key = store.keptKeyOf('5f000000aaaaaaaaaaaaaaaa');
        await store.keepVersion('/f.txt', key);
        await put('/f.txt', 'new');
        expect(await text(await store.openKept(key))).toBe('old bytes');
        expect(await store.keptFingerprint(key)).toMatchObject({ size: 9, isDirectory: false });
        expect(await store.keptFiles(key)).toEqual([expect.objectContaining({ key, below: '', size: 9 })]);
        expect(await text(await store.openRead('/f.txt'))).toBe('new');
        await expect(store.keepVersion('/none', store.keptKeyOf('5f000000bbbbbbbbbbbbbbbb'))).rejects.toBeInstanceOf(NotFoundError);
      });

      it('keeping a version through a symlink keeps the real bytes, never a link to the link', async () => {
        await put('/real.txt', 'real content');
        await subject.makeSymlink('/link.txt', '/real.txt');
        const key = store.keptKeyOf('5f000000cccccccccccccccc');
        await store.keepVersion('/link.txt', key);
        await put('/link.txt', 'written through the link');
        expect(await text(await store.openRead('/real.txt'))).toBe('written through the link');
        expect(await text(await store.openKept(key))).toBe('real content');
        expect(await store.keptFingerprint(key)).toMatchObject({ size: 12, isDirectory: false });
      });

      it('moves a whole tree out as one kept tree and puts it back exactly', async () => {
        await sampleTree();
        const before = await treeOf(store, '/d');
        const stats = await store.stat('/d/a.txt');
        const key = store.keptKeyOf('5f000000dddddddddddddddd');
        expect(await store.moveOutAsKept('/d', key)).toBe(true);
        expect(await store.stat('/d')).toBeNull();
        expect(await store.keptFingerprint(key)).toMatchObject({ isDirectory: true });
        const files = await store.keptFiles(key);
        expect(files.map((f) => [f.below, f.size]).sort()).toEqual([['a.txt', 5], ['sub/b.txt', 4]]);
        expect(await text(await store.openKept(files.find((f) => f.below === 'a.txt')!.key))).toBe('alpha');
        expect(await store.openKept(key)).toBeNull();

        await store.putBack('/d', key);
        expect(await treeOf(store, '/d')).toEqual(before);
        expect(await store.stat('/d/a.txt')).toMatchObject({ mtimeMs: stats!.mtimeMs, ino: stats!.ino, size: 5 });
        expect(await store.keptFingerprint(key)).toBeNull();
      });

      it('puts a kept version back only where nothing is', async () => {
        await put('/f.txt', 'kept');
        const key = store.keptKeyOf('5f000000eeeeeeeeeeeeeeee');
        expect(await store.moveOutAsKept('/f.txt', key)).toBe(true);
        await put('/f.txt', 'newer');
        await expect(store.putBack('/f.txt', key)).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await text(await store.openKept(key))).toBe('kept');
        await store.remove('/f.txt');
        await store.putBack('/f.txt', key);
        expect(await text(await store.openRead('/f.txt'))).toBe('kept');
      });

      it('moving a symlink out only removes the link: what it points to stays served', async () => {
        await put('/real.txt', 'real');
        await subject.makeSymlink('/link.txt', '/real.txt');
        const key = store.keptKeyOf('5f000000ffffffffffffffff');
        expect(await store.moveOutAsKept('/link.txt', key)).toBe(false);
        expect(await store.stat('/link.txt')).toBeNull();
        expect(await text(await store.openRead('/real.txt'))).toBe('real');
        expect(await store.keptFingerprint(key)).toBeNull();
      });

      it('removes kept bytes, and sweeps every kept file no known key names (keeping named keys and their trees)', async () => {
        await sampleTree();
        await put('/one.txt', '1');
        await put('/two.txt', '2');
        const tree = store.keptKeyOf('5f000001aaaaaaaaaaaaaaaa');
        const named = store.keptKeyOf('5f000001bbbbbbbbbbbbbbbb');
        const orphan = store.keptKeyOf('5f000001cccccccccccccccc');
        await store.moveOutAsKept('/d', tree);
        await store.keepVersion('/one.txt', named);
        await store.keepVersion('/two.txt', orphan);
        const all: string[] = [];
        for await (const key of store.allKeptFiles()) all.push(key);
        expect(all.sort()).toEqual([`${tree}/a.txt`, `${tree}/sub/b.txt`, named, orphan].sort());

        expect(await store.sweepKept(new Set([tree, named]))).toBe(1);
        expect(await store.keptFingerprint(orphan)).toBeNull();
        expect(await text(await store.openKept(named))).toBe('1');
        expect(await text(await store.openKept(`${tree}/sub/b.txt`))).toBe('beta');

        await store.removeKept(named);
        expect(await store.keptFingerprint(named)).toBeNull();
        expect(await store.openKept(named)).toBeNull();
      });

      it('refuses keys that could leave the kept bytes', async () => {
        for (const bad of ['../x', 'a/../../b', '/abs', 'a//b', 'a/./b', 'a\u0000b', '']) {
          await expect(store.openKept(bad)).rejects.toBeInstanceOf(RangeError);
          await expect(store.removeKept(bad)).rejects.toBeInstanceOf(RangeError);
        }
        await put('/f.txt', 'x');
        await expect(store.keepVersion('/f.txt', '../escape')).rejects.toBeInstanceOf(RangeError);
        expect(await text(await store.openRead('/f.txt'))).toBe('x');
      });

      it('reports the space of both disks', async () => {
        for (const space of [await store.space(), await store.keptSpace()]) {
          expect(space.total).toBeGreaterThan(0);
          expect(space.free).toBeGreaterThanOrEqual(0);
          expect(space.free).toBeLessThanOrEqual(space.total);
        }
        await expect(store.probeWritable()).resolves.toBeUndefined();
        expect(await store.list('/')).toEqual([]);
      });
    });
  });
}
