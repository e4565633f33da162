/**
 * helperThread.ts: listings (listingThread.ts) and the hashing of large uploads (contentDigests.ts)
 * share one worker thread. Checked here: both run on one thread (the process gains one thread
 * for both, not two), a process that used both ends by itself, a service is registered once, and
 * when the thread stops in the middle of both a listing and an upload, the listing fails, the
 * upload's digests come from its bytes read back, and the next calls of both run on a new thread.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFFLOAD_MIN_BYTES, startContentDigests } from '../../../src/storage/contentDigests';
import { helperService, stopHelperThread } from '../../../src/storage/helperThread';
import { MEMBER_FIELDS, MemberKind, openListingOnThread, statMembersOnThread } from '../../../src/storage/listingThread';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepdav-helper-'));
  mkdirSync(join(dir, 'many'));
  for (let i = 0; i < 600; i++) writeFileSync(join(dir, 'many', `f${i}`), 'x');
});

afterAll(async () => {
  await stopHelperThread();
  rmSync(dir, { recursive: true, force: true });
});

const threadCount = () => readdirSync('/proc/self/task').length;
const sha1 = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');

async function hashLarge(bytes: Buffer, readBack: () => AsyncIterable<Buffer>) {
  const digester = startContentDigests(bytes.length);
  await digester.update([bytes]);
  return digester.result(readBack);
}

const neverReadBack = (): AsyncIterable<Buffer> => {
  throw new Error('read back although the thread hashed it');
};

describe('the helper thread', () => {
  it('listings and the hashing of large uploads run on one thread: the process gains one thread for both', async () => {
    await stopHelperThread();
    const before = threadCount();
    expect((await statMembersOnThread(join(dir, 'many'), ['f1']))[0]).toBe(MemberKind.File);
    const withListing = threadCount();
    expect(withListing).toBeGreaterThan(before);
    const body = Buffer.alloc(OFFLOAD_MIN_BYTES, 3);
    expect((await hashLarge(body, neverReadBack)).sha1).toBe(sha1(body));
    expect(threadCount()).toBe(withListing);
  });

  it('a process that listed and hashed through it ends by itself (an idle thread holds nothing open)', () => {
    const listing = require.resolve('../../../src/storage/listingThread');
    const digests = require.resolve('../../../src/storage/contentDigests');
    const script = `
      const d = require(${JSON.stringify(digests)}).startContentDigests(${OFFLOAD_MIN_BYTES});
      require(${JSON.stringify(listing)}).statMembersOnThread(${JSON.stringify(join(dir, 'many'))}, ['f2'])
        .then((p) => Promise.resolve(d.update([Buffer.alloc(${OFFLOAD_MIN_BYTES}, 7)])).then(() => d.result(() => { throw new Error('read back'); })).then((r) => console.log(p[0], r.sha1)));`;
    const out = execFileSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', script], { timeout: 30_000 });
    expect(out.toString()).toBe(`${MemberKind.File} ${sha1(Buffer.alloc(OFFLOAD_MIN_BYTES, 7))}\n`);
  });

  it('a service is registered once', () => {
    expect(() => helperService('listing', { source: 'return () => undefined', onMessage: () => undefined, onStopped: () => undefined })).toThrow(/twice/);
  });

  it('stopped in the middle of a listing and an upload: the listing fails, the digests are read back, and both work again on a new thread', async () => {
    const listing = await openListingOnThread(join(dir, 'many'), 32);
    expect((await listing.read(100))!.names).toHaveLength(100);
    const body = Buffer.alloc(OFFLOAD_MIN_BYTES + 5, 9);
    const digester = startContentDigests(body.length);
    await digester.update([body.subarray(0, OFFLOAD_MIN_BYTES)]);
    await stopHelperThread();
    await expect(listing.read(100)).rejects.toThrow(/stopped/);
    await listing.close();
    await digester.update([body.subarray(OFFLOAD_MIN_BYTES)]);
    let readBack = false;
    const digests = await digester.result(async function* () {
      readBack = true;
      yield body;
    });
    expect(readBack).toBe(true);
    expect(digests.sha1).toBe(sha1(body));
    const again = await statMembersOnThread(join(dir, 'many'), ['f3', 'absent']);
    expect([again[0], again[MEMBER_FIELDS]]).toEqual([MemberKind.File, MemberKind.Careful]);
    expect((await hashLarge(body, neverReadBack)).sha1).toBe(sha1(body));
  });
});
