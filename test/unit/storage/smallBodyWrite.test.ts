/**
 * Small uploads of announced length through the native durable-write helper (smallBodyWrite.ts,
 * native/durableWrite.c): one trip through the thread pool instead of the streaming path's three,
 * with the streaming path's outcome. Every case runs both ways (helper on, helper off) and checks
 * the content, the digests, the mode, the modification time (the same doubles either way), the
 * stats of the file in place, and that no temporary is left; the failures (a checksum the content
 * contradicts, a body of the wrong length, a collection at the target, a missing uploads
 * directory, another filesystem) leave the target as it was. Outside CI a missing build is said
 * loudly and the helper's half skipped; in CI it must be there.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically, type AtomicWriteRequest } from '../../../src/storage/atomicWrite';
import { SMALL_BODY_MAX } from '../../../src/storage/smallBodyWrite';
import { DURABLE_WRITE_BINARY, durableWriteForTests } from '../../../src/storage/durableWriteHelper';
import { IncompleteBodyError, IsACollectionError } from '../../../src/storage/storageErrors';
import { itWhenInstalled } from '../../support/realClientKit';
import { bodyOf, freshDir, otherFilesystem, removeDir } from './storageTestKit';

// The module object itself, whose functions the storage modules look up at each call (an import's namespace cannot be spied on).
const fs: typeof import('node:fs') = require('node:fs');
const built = existsSync(DURABLE_WRITE_BINARY);
const itWhenBuilt = itWhenInstalled('the native durable-write helper (build/Release/durable_write.node)', built, 'npm install builds it: needs python3, make and a C compiler');

let root: string;
let uploads: string;
let counter = 0;

beforeAll(() => {
  root = freshDir('small-write');
  uploads = join(root, 'uploads');
  mkdirSync(uploads);
});
afterAll(() => {
  durableWriteForTests.use(true);
  removeDir(root);
});
afterEach(() => jest.restoreAllMocks());

/** A fresh target directory, and a request writing `content` to `name` in it through the uploads directory. */
function requestFor(content: string | Buffer, extra: Partial<AtomicWriteRequest> = {}, name = 'f.bin'): AtomicWriteRequest & { dir: string } {
  const dir = join(root, `t${++counter}`);
  mkdirSync(dir);
  const bytes = Buffer.from(content);
  return {
    dir, path: `/${name}`, dirHost: dir, targetHost: join(dir, name), tempDirHost: uploads, body: bodyOf(bytes, 1000), expectedLength: bytes.length, ...extra,
  };
}

const temporaries = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.keepdav-'));
const digestsOf = (bytes: Buffer) => ({ sha1: createHash('sha1').update(bytes).digest('hex'), md5: createHash('md5').update(bytes).digest('hex') });

describe.each([
  ['through the helper', true],
  ['streamed (helper off)', false],
] as const)('a small upload %s', (_label, helperOn) => {
  const maybe = helperOn ? itWhenBuilt : it;
  let opens: jest.SpyInstance;
  beforeEach(() => {
    durableWriteForTests.use(helperOn);
    // The streaming path creates its temporary with fs.open; the helper never calls it.
    opens = jest.spyOn(fs, 'open');
  });

  maybe('creates the file with its content, digests, mode and time, and leaves no temporary', async () => {
    const content = Buffer.alloc(SMALL_BODY_MAX, 7);
    const request = requestFor(content, { mode: 0o640, mtimeMs: 1_700_000_000_250.5 });
    const outcome = await writeAtomically(request);
    const inPlace = statSync(request.targetHost);
    expect(readFileSync(request.targetHost).equals(content)).toBe(true);
    expect(outcome.digests).toEqual(digestsOf(content));
    expect(inPlace.mode & 0o777).toBe(0o640);
    // The helper sets it to the nanosecond; fs.futimes (seconds as a double) may set a microsecond less on Node.js 20.
    if (helperOn) expect(inPlace.mtimeMs).toBe(1_700_000_000_250.5);
    else expect([1_700_000_000_250.5, 1_700_000_000_250.499]).toContain(inPlace.mtimeMs);
    expect(outcome.stats.ino).toBe(inPlace.ino);
    expect(outcome.stats.size).toBe(SMALL_BODY_MAX);
    expect(temporaries(request.dir)).toEqual([]);
    expect(temporaries(uploads)).toEqual([]);
    expect(opens.mock.calls.length > 0).toBe(!helperOn);
  });

  maybe('replaces an existing file (a new inode) and keeps the times of the create when none is asked for', async () => {
    const request = requestFor('new');
    writeFileSync(request.targetHost, 'old, longer content');
    const before = statSync(request.targetHost);
    const startedMs = Date.now();
    const outcome = await writeAtomically(request);
    expect(readFileSync(request.targetHost, 'utf8')).toBe('new');
    expect(outcome.stats.ino).not.toBe(before.ino);
    expect(outcome.stats.mtimeMs).toBeGreaterThanOrEqual(startedMs - 1000);
    expect(temporaries(uploads)).toEqual([]);
  });

  maybe('writes an empty body as an empty file', async () => {
    const request = requestFor('');
    const outcome = await writeAtomically(request);
    expect(readFileSync(request.targetHost).length).toBe(0);
    expect(outcome.digests).toEqual(digestsOf(Buffer.alloc(0)));
  });

  maybe('refuses content that verify contradicts before anything is created: the old content stays', async () => {
    const request = requestFor('tampered', {
      verify: () => {
        throw new Error('checksum mismatch');
      },
    });
    writeFileSync(request.targetHost, 'original');
    await expect(writeAtomically(request)).rejects.toThrow('checksum mismatch');
    expect(readFileSync(request.targetHost, 'utf8')).toBe('original');
    expect(temporaries(request.dir)).toEqual([]);
    expect(temporaries(uploads)).toEqual([]);
  });

  maybe.each([
    ['ends short of its announced length', 'abc', 4],
    ['runs past its announced length', 'abcde', 4],
  ])('refuses a body that %s (IncompleteBodyError), the old content intact', async (_what, content, expectedLength) => {
    const request = requestFor(content, { expectedLength });
    writeFileSync(request.targetHost, 'original');
    await expect(writeAtomically(request)).rejects.toBeInstanceOf(IncompleteBodyError);
    expect(readFileSync(request.targetHost, 'utf8')).toBe('original');
    expect(temporaries(request.dir)).toEqual([]);
    expect(temporaries(uploads)).toEqual([]);
  });

  maybe('refuses a collection at the target (IsACollectionError), removing its temporary', async () => {
    const request = requestFor('x', {}, 'folder');
    mkdirSync(request.targetHost);
    await expect(writeAtomically(request)).rejects.toBeInstanceOf(IsACollectionError);
    expect(readdirSync(request.targetHost)).toEqual([]);
    expect(temporaries(request.dir)).toEqual([]);
    expect(temporaries(uploads)).toEqual([]);
  });

  maybe('goes beside its target when the uploads directory is missing, and says so', async () => {
    let missing = 0;
    const request = requestFor('content', { tempDirHost: join(root, 'no-such-uploads'), tempDirMissing: () => missing++ });
    await writeAtomically(request);
    expect(missing).toBe(1);
    expect(readFileSync(request.targetHost, 'utf8')).toBe('content');
    expect(readdirSync(request.dir)).toEqual(['f.bin']);
  });

  maybe('goes beside its target when the uploads directory is on another filesystem (EXDEV), and says so', async () => {
    const elsewhere = otherFilesystem(root);
    if (elsewhere === null) {
      console.warn('no second filesystem (/dev/shm, /run): the EXDEV fallback is not tested');
      return;
    }
    let refused = 0;
    const request = requestFor('content', { tempDirHost: elsewhere, renameRefused: () => refused++, mode: 0o600, mtimeMs: 1_600_000_000_000 });
    writeFileSync(request.targetHost, 'old');
    const outcome = await writeAtomically(request);
    expect(refused).toBe(1);
    const inPlace = statSync(request.targetHost);
    expect(readFileSync(request.targetHost, 'utf8')).toBe('content');
    expect(inPlace.mode & 0o777).toBe(0o600);
    expect(inPlace.mtimeMs).toBe(1_600_000_000_000);
    expect(outcome.stats.ino).toBe(inPlace.ino);
    expect(readdirSync(request.dir)).toEqual(['f.bin']);
    expect(readdirSync(elsewhere)).toEqual([]);
    rmSync(elsewhere, { recursive: true, force: true });
  });
});

describe('the helper', () => {
  beforeAll(() => durableWriteForTests.use(true));

  itWhenBuilt('is loaded when built', () => {
    expect(durableWriteForTests.available()).toBe(true);
  });

  itWhenBuilt.each([
    ['whole seconds', 1_600_000_000_000],
    ['milliseconds', 1_600_000_000_123],
    ['before 1970', -86_400_500],
  ])('sets a modification time in %s exactly (fs.futimes, taking seconds as a double, can miss by a microsecond, and before 1970 by far, on Node.js 20)', async (_what, mtimeMs) => {
    const request = requestFor('timed', { mtimeMs });
    const outcome = await writeAtomically(request);
    expect(statSync(request.targetHost).mtimeMs).toBe(mtimeMs);
    expect(outcome.stats.mtimeMs).toBe(mtimeMs);
  });


  it('is not used for a body longer than SMALL_BODY_MAX or of unknown length (those stream)', async () => {
    const opens = jest.spyOn(fs, 'open');
    const long = requestFor(Buffer.alloc(SMALL_BODY_MAX + 1, 1));
    await writeAtomically(long);
    const unknown = requestFor('chunked', { expectedLength: undefined });
    await writeAtomically(unknown);
    expect(opens).toHaveBeenCalledTimes(2);
    expect(readFileSync(unknown.targetHost, 'utf8')).toBe('chunked');
    expect(statSync(long.targetHost).size).toBe(SMALL_BODY_MAX + 1);
  });

  itWhenBuilt('throws a TypeError for arguments of the wrong types', () => {
    const binding = require(DURABLE_WRITE_BINARY) as { write: (...args: unknown[]) => void };
    const done = () => undefined;
    const cases: unknown[][] = [
      [],
      ['/tmp/x', 'not a buffer', -1, 0, 0, '/tmp/y', done],
      ['/tmp/x', Buffer.alloc(1), 0o10000, 0, 0, '/tmp/y', done],
      ['/tmp/x', Buffer.alloc(1), -1, 0, Infinity, '/tmp/y', done],
      ['/tmp/x', Buffer.alloc(1), -1, 0, 0, '/tmp/y', 'not a function'],
      ['/tmp/x\u0000y', Buffer.alloc(1), -1, 0, 0, '/tmp/y', done],
    ];
    for (const args of cases) {
      // The helper's TypeError is of the process's own realm, not of jest's sandbox: compare names.
      expect(() => binding.write(...args)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    }
  });
});
