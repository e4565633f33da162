/**
 * contentDigests.ts: an upload's SHA-1 and MD5, hashed in place when small or unannounced, off the
 * main thread when announced large and a checksum is claimed (nativeHashing.ts: on libuv's pool by
 * native/contentHashes.c, and, with it turned off as without a compiler, on the hashing thread),
 * and read back from the written bytes when that thread stops mid-upload; a large one nobody
 * claims for is not hashed, and storedFileDigests.ts reads the stored file back for both digests
 * while no large upload streams. Every answer is checked against node:crypto over the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { OFFLOAD_MIN_BYTES, startContentDigests, type ContentDigests, type DigestsNow } from '../../../src/storage/contentDigests';
import { hashingThreadRunning, stopHashingThread } from '../../../src/storage/hashingThread';
import { CONTENT_HASHES_BINARY, nativeHashingAvailable, useNativeHashingForTests } from '../../../src/storage/nativeHashing';
import { digestsOfStoredFile } from '../../../src/storage/storedFileDigests';
import { existsSync } from 'node:fs';
import { itWhenInstalled } from '../../support/realClientKit';
import { helperThreadsForTests } from '../../../src/storage/workerThread';
import { retryWhile } from '../../support/retryWhile';

function expected(bytes: Buffer): ContentDigests {
  return { sha1: createHash('sha1').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') };
}

/** `bytes` cut into uneven pieces (batches of the hashing thread never line up with them). */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = [65_536, 1, 333_333, 1_048_576, 7][n % 5];
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

async function* readBackOf(bytes: Buffer): AsyncIterable<Buffer> {
  for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, at + (1 << 20));
}

const neverReadBack = (): AsyncIterable<Buffer> => {
  throw new Error('read back although the hashing thread ran');
};

/** Both digests on the way in (a claimed MD5). */
const MD5_NOW: DigestsNow = 'sha1+md5';
/** The SHA-1 on the way in, the MD5 later (a claimed SHA-1). */
const SHA1_NOW: DigestsNow = 'sha1';
/** Nothing on the way in (no claim). */
const NOT_NOW: DigestsNow = 'none';

afterAll(() => stopHashingThread());

const built = existsSync(CONTENT_HASHES_BINARY);
/** The two ways a large body is hashed: both must give the same digests. */
const HASHERS: Array<[string, boolean]> = [["the native helper on libuv's pool", true], ['the hashing thread', false]];

describe('the native helper', () => {
  itWhenInstalled('the native content hashes helper (build/Release/content_hashes.node)', built, 'npm install builds it: needs python3, make and a C compiler')(
    'is built, finds OpenSSL in this Node.js, and hashes a large body with no hashing thread started',
    async () => {
      await stopHashingThread();
      expect(nativeHashingAvailable()).toBe(true);
      const bytes = randomBytes(OFFLOAD_MIN_BYTES + 5);
      const digester = startContentDigests(bytes.length, MD5_NOW);
      for (const piece of pieces(bytes)) await digester.update([piece]);
      expect(await digester.result(neverReadBack)).toEqual(expected(bytes));
      expect(hashingThreadRunning()).toBe(false);
    },
  );
});

describe.each(HASHERS)('content digests by %s', (_label, native) => {
  beforeAll(() => useNativeHashingForTests(native));
  afterAll(() => useNativeHashingForTests(true));

  it('a process that hashes a large body gets its digests, then ends by itself', () => {
    const module = require.resolve('../../../src/storage/contentDigests');
    const nativeHashing = require.resolve('../../../src/storage/nativeHashing');
    const script = `require(${JSON.stringify(nativeHashing)}).useNativeHashingForTests(${native}); ` +
      `const d = require(${JSON.stringify(module)}).startContentDigests(${OFFLOAD_MIN_BYTES}, 'sha1+md5'); ` +
      `Promise.resolve(d.update([Buffer.alloc(${OFFLOAD_MIN_BYTES}, 7)])).then(() => d.result(() => { throw new Error('read back'); })).then((r) => console.log(r.sha1))`;
    const out = execFileSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', script], { timeout: 30_000 });
    expect(out.toString()).toBe(`${expected(Buffer.alloc(OFFLOAD_MIN_BYTES, 7)).sha1}\n`);
  });

  const large = randomBytes(OFFLOAD_MIN_BYTES + 3_000_017);

  it('an announced large body is hashed off the main thread, in order, whatever the piece sizes', async () => {
    const digester = startContentDigests(large.length, MD5_NOW);
    for (const piece of pieces(large)) await digester.update([piece]);
    expect(await digester.result(neverReadBack)).toEqual(expected(large));
  });

  it('several large bodies at once keep their own digests', async () => {
    const other = randomBytes(OFFLOAD_MIN_BYTES + 12_345);
    const a = startContentDigests(large.length, MD5_NOW);
    const b = startContentDigests(other.length, MD5_NOW);
    const [pa, pb] = [pieces(large), pieces(other)];
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      if (pa[i]) await a.update([pa[i]]);
      if (pb[i]) await b.update([pb[i]]);
    }
    const [da, db] = await Promise.all([a.result(neverReadBack), b.result(neverReadBack)]);
    expect(da).toEqual(expected(large));
    expect(db).toEqual(expected(other));
  });

  it('small, empty and unannounced bodies are hashed in place', async () => {
    for (const [bytes, announced] of [[Buffer.from('hello'), 5], [Buffer.alloc(0), 0], [large, undefined]] as const) {
      const digester = startContentDigests(announced, MD5_NOW);
      expect(digester.update(pieces(bytes))).toBeUndefined(); // nothing to wait for
      expect(await digester.result(neverReadBack)).toEqual(expected(bytes));
    }
  });

  // The helper has no thread to stop: this is the hashing thread's own failure.
  if (!native) it('when the hashing thread stops mid-upload, the digests come from the bytes read back', async () => {
    const digester = startContentDigests(large.length, MD5_NOW);
    const all = pieces(large);
    for (const piece of all.slice(0, 10)) await digester.update([piece]);
    await stopHashingThread();
    for (const piece of all.slice(10)) await digester.update([piece]);
    expect(await digester.result(() => readBackOf(large))).toEqual(expected(large));
    // and the next large upload has a thread again
    const next = startContentDigests(large.length, MD5_NOW);
    await next.update([large]);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });

  it('a cancelled upload leaves the hasher serving the next one', async () => {
    const cancelled = startContentDigests(large.length, MD5_NOW);
    await cancelled.update([large.subarray(0, 5_000_000)]);
    cancelled.cancel();
    const next = startContentDigests(large.length, MD5_NOW);
    for (const piece of pieces(large)) await next.update([piece]);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });
});

describe.each(HASHERS)('a large upload\'s digests, later, by %s', (_label, native) => {
  beforeAll(() => useNativeHashingForTests(native));
  afterAll(() => useNativeHashingForTests(true));
  const large = randomBytes(OFFLOAD_MIN_BYTES + 777);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepdav-md5-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a large body is hashed on the way in only for what is asked; a small one always gets both', async () => {
    const unclaimed = startContentDigests(large.length, NOT_NOW);
    for (const piece of pieces(large)) await unclaimed.update([piece]);
    expect(await unclaimed.result(neverReadBack)).toBeNull();
    const later = startContentDigests(large.length, SHA1_NOW);
    for (const piece of pieces(large)) await later.update([piece]);
    expect(await later.result(neverReadBack)).toEqual({ sha1: expected(large).sha1, md5: null });
    const small = startContentDigests(5, NOT_NOW);
    small.update([Buffer.from('hello')]);
    expect(await small.result(neverReadBack)).toEqual(expected(Buffer.from('hello')));
    const now = startContentDigests(large.length, MD5_NOW);
    await now.update([large]);
    expect(await now.result(neverReadBack)).toEqual(expected(large));
  });

  if (!native) it('read back when the thread stops mid-upload, a large body still has no MD5 unless asked', async () => {
    const digester = startContentDigests(large.length, SHA1_NOW);
    await digester.update([large.subarray(0, 3_000_000)]);
    await stopHashingThread();
    await digester.update([large.subarray(3_000_000)]);
    expect(await digester.result(() => readBackOf(large))).toEqual({ sha1: expected(large).sha1, md5: null });
  });

  it('digestsOfStoredFile reads a stored file back: its digests and the stat it was read under', async () => {
    const file = join(dir, 'stored.bin');
    await writeFile(file, large);
    const s = await stat(file);
    expect(await digestsOfStoredFile(file)).toEqual({ ...expected(large), ino: s.ino, size: s.size, mtimeMs: s.mtimeMs });
    await writeFile(join(dir, 'empty'), '');
    expect(await digestsOfStoredFile(join(dir, 'empty'))).toMatchObject(expected(Buffer.alloc(0)));
    const exact = randomBytes(3 * 1024 * 1024); // whole batches, more than may be in flight
    await writeFile(join(dir, 'exact.bin'), exact);
    expect(await digestsOfStoredFile(join(dir, 'exact.bin'))).toMatchObject(expected(exact));
  });

  it('gives null for a missing file, a directory, a symbolic link, and when aborted', async () => {
    await writeFile(join(dir, 'target.bin'), 'x');
    await symlink(join(dir, 'target.bin'), join(dir, 'link.bin'));
    expect(await digestsOfStoredFile(join(dir, 'missing.bin'))).toBeNull();
    expect(await digestsOfStoredFile(dir)).toBeNull();
    expect(await digestsOfStoredFile(join(dir, 'link.bin'))).toBeNull();
    const aborted = new AbortController();
    aborted.abort();
    expect(await digestsOfStoredFile(join(dir, 'target.bin'), aborted.signal)).toBeNull();
  });

  it('waits while a large upload streams, hashed or not, and gives null for a file that changed while it waited', async () => {
    const file = join(dir, 'changing.bin');
    await writeFile(file, large);
    for (const options of [NOT_NOW, SHA1_NOW]) {
      const upload = startContentDigests(large.length, options);
      await upload.update([large.subarray(0, 2_000_000)]);
      let settled = false;
      const reading = digestsOfStoredFile(file).finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(settled).toBe(false); // the upload comes first
      await appendFile(file, 'more'); // opened before, changed now
      await upload.update([large.subarray(2_000_000)]);
      expect((await upload.result(neverReadBack))?.sha1).toBe(options !== NOT_NOW ? expected(large).sha1 : undefined);
      expect(await reading).toBeNull();
    }
    // and a read that is aborted while it waits gives null at once
    const blocking = startContentDigests(large.length, NOT_NOW);
    await blocking.update([large.subarray(0, 1_000)]);
    const abort = new AbortController();
    const waiting = digestsOfStoredFile(file, abort.signal);
    abort.abort();
    expect(await waiting).toBeNull();
    blocking.cancel(); // a cancelled upload no longer holds reads back
    const now = Buffer.concat([large, Buffer.from('moremore')]);
    expect(await digestsOfStoredFile(file)).toMatchObject(expected(now));
  });
});

describe('an idle hashing thread', () => {
  beforeAll(async () => {
    useNativeHashingForTests(false);
    await stopHashingThread();
    helperThreadsForTests.setIdleStopMs(300);
  });
  afterAll(() => {
    helperThreadsForTests.setIdleStopMs(10_000);
    useNativeHashingForTests(true);
  });

  it('is stopped once no upload has been hashed for the idle time, not while one is; the next large upload gets a new thread', async () => {
    const large = randomBytes(OFFLOAD_MIN_BYTES + 1);
    const done = startContentDigests(large.length, MD5_NOW);
    await done.update([large]);
    expect(await done.result(neverReadBack)).toEqual(expected(large)); // the thread has fallen idle: its stop is due in 300 ms
    const slow = startContentDigests(large.length, MD5_NOW);
    await slow.update([large.subarray(0, 1_000_000)]);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the upload's client is slow: its thread stays
    expect(hashingThreadRunning()).toBe(true);
    await slow.update([large.subarray(1_000_000)]);
    expect(await slow.result(neverReadBack)).toEqual(expected(large));
    expect(await retryWhile(async () => hashingThreadRunning(), (running) => running, 5_000)).toBe(false);
    const next = startContentDigests(large.length, MD5_NOW);
    await next.update(pieces(large));
    expect(hashingThreadRunning()).toBe(true);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });
});
