/**
 * Files past 4 GiB: a PUT of 4 GiB + 256 MiB (so offsets and lengths beyond 2^32 are exercised),
 * once with Content-Length and once chunked over the same file, into keepdav running as a child
 * process whose resident memory is watched during the upload. The body is generated block by
 * block from a cheap deterministic pattern and hashed while sent; the stored file is hashed back
 * from disk; HEAD and a Range GET straddling the 2^32 boundary are checked against the pattern.
 *
 * Needs 12 GiB free in the temporary directory (the overwrite holds the old file and the new
 * temp file at once); with less it is skipped with a warning, except in CI, where it must run
 * (and fails, saying how much space is missing).
 */
import { statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from '../support/childServer';
import { BLOCK_BYTES, GiB, MiB, MemoryWatch, patternBytes, sha256OfFile, streamedGet, streamedPut } from '../support/largeBody';

const BLOCKS = (4 * GiB + 256 * MiB) / BLOCK_BYTES; // 4352 blocks of 1 MiB
const TOTAL = BLOCKS * BLOCK_BYTES; // 4_563_402_752 bytes
const RSS_LIMIT = 200 * MiB;
/** What the server may grow by while moving 4.25 GiB: buffers, not the body. */
const RSS_GROWTH_LIMIT = 64 * MiB;
const REQUIRED_FREE = 12 * GiB;
const SEED_LENGTH = 0;
const SEED_CHUNKED = 0x5a5a5a5a;
/** 16 bytes straddling 2^32: the last 6 of block 4095 and the first 10 of block 4096. */
const RANGE_START = 4294967290;
const RANGE_END = 4294967305;

const fs = statfsSync(tmpdir());
const freeBytes = fs.bavail * fs.bsize;
const enoughSpace = freeBytes >= REQUIRED_FREE;
if (!enoughSpace && process.env.CI) {
  test('has the disk space it needs in CI', () => {
    throw new Error(`largeFile.test.ts needs ${REQUIRED_FREE / GiB} GiB free in ${tmpdir()} and has only ${(freeBytes / GiB).toFixed(1)} GiB: CI must give it room (it never skips there)`);
  });
} else if (!enoughSpace) {
  // eslint-disable-next-line no-console
  console.warn(
    `largeFile.test.ts SKIPPED: only ${(freeBytes / GiB).toFixed(1)} GiB free in ${tmpdir()}, ` +
      `${REQUIRED_FREE / GiB} GiB needed for the 4.25 GiB uploads`,
  );
}
const describeWithSpace = enoughSpace ? describe : describe.skip;

/** The root's entries but `.keepdav-state-id`, which ties the root to its state (README, "What is stored where"). */
const servedNames = async (root: string) => (await readdir(root)).filter((n) => n !== '.keepdav-state-id');

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const log = (line: string) => process.stdout.write(`[largeFile] ${line}\n`);

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? await treeBytes(full) : (await stat(full)).size;
  }
  return total;
}

describeWithSpace('PUT and GET of a file larger than 4 GiB', () => {
  let base: string;
  let root: string;
  let state: string;
  let server: ChildServer;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'keepdav-large-'));
    root = join(base, 'root');
    state = join(base, 'state');
    await mkdir(root);
    // No retention: the replaced and the deleted 4.25 GiB files must not stay in the state dir.
    server = await startChildServer(root, state, ['--retain-versions', '0']);
  }, 60_000);

  afterAll(async () => {
    if (server) await server.stop();
    if (base) await rm(base, { recursive: true, force: true });
  }, 60_000);

  /** Uploads the pattern with `seed` over /big.bin and checks disk, HEAD and ranges; returns the sha256 sent. */
  async function uploadAndCheck(seed: number, chunked: boolean, expectedStatus: number): Promise<string> {
    const pid = server.child.pid!;
    const watch = new MemoryWatch(pid);
    await watch.start();
    const startedAt = Date.now();
    const put = await streamedPut(server.port, '/big.bin', BLOCKS, seed, chunked);
    const uploadMs = Date.now() - startedAt;
    const memory = await watch.stop();
    log(
      `${chunked ? 'chunked' : 'Content-Length'} PUT of ${TOTAL} bytes: ${put.status} in ${(uploadMs / 1000).toFixed(1)} s ` +
        `(${(TOTAL / MiB / (uploadMs / 1000)).toFixed(0)} MiB/s); server RSS before ${mib(memory.baseline)}, ` +
        `peak ${mib(memory.peak)} (${memory.method}; sampled max ${mib(memory.sampledPeak)})`,
    );

    expect({ status: put.status, answeredEarly: put.answeredEarly, body: put.body.slice(0, 1000) }).toEqual({
      status: expectedStatus,
      answeredEarly: false,
      body: expect.any(String),
    });
    expect(put.sent).toBe(TOTAL);

    // What is on disk: exactly that size, exactly those bytes, and no temp file left beside it.
    const onDisk = await sha256OfFile(join(root, 'big.bin'));
    expect(onDisk.size).toBe(TOTAL);
    expect(onDisk.sha256).toBe(put.sha256);
    expect(await servedNames(root)).toEqual(['big.bin']);

    const head = await server.request('HEAD', '/big.bin');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(TOTAL));

    const range = await server.request('GET', '/big.bin', { headers: { Range: `bytes=${RANGE_START}-${RANGE_END}` } });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes ${RANGE_START}-${RANGE_END}/${TOTAL}`);
    expect(range.headers['content-length']).toBe('16');
    expect(range.body.toString('hex')).toBe(patternBytes(RANGE_START, RANGE_END, seed).toString('hex'));

    const tail = await server.request('GET', '/big.bin', { headers: { Range: 'bytes=-16' } });
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes ${TOTAL - 16}-${TOTAL - 1}/${TOTAL}`);
    expect(tail.body.toString('hex')).toBe(patternBytes(TOTAL - 16, TOTAL - 1, seed).toString('hex'));

    expect(memory.peak).toBeLessThan(RSS_LIMIT);
    expect(memory.peak - memory.baseline).toBeLessThan(RSS_GROWTH_LIMIT);
    return put.sha256;
  }

  it('PUT with Content-Length creates it (201); disk, HEAD and a Range across 2^32 match; server memory stays flat', async () => {
    const sent = await uploadAndCheck(SEED_LENGTH, false, 201);

    // A plain GET streams all of it back, with the server's memory still flat.
    const watch = new MemoryWatch(server.child.pid!);
    await watch.start();
    const startedAt = Date.now();
    const get = await streamedGet(server.port, '/big.bin');
    const getMs = Date.now() - startedAt;
    const memory = await watch.stop();
    log(
      `GET of ${get.size} bytes: ${get.status} in ${(getMs / 1000).toFixed(1)} s; server RSS before ${mib(memory.baseline)}, ` +
        `peak ${mib(memory.peak)} (${memory.method})`,
    );
    expect(get.status).toBe(200);
    expect(get.headers['content-length']).toBe(String(TOTAL));
    expect(get.size).toBe(TOTAL);
    expect(get.sha256).toBe(sent);
    expect(memory.peak).toBeLessThan(RSS_LIMIT);
    expect(memory.peak - memory.baseline).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 150_000);

  it('chunked PUT (no Content-Length) replaces it (204) with the same checks; DELETE then frees the space', async () => {
    await uploadAndCheck(SEED_CHUNKED, true, 204);

    const del = await server.request('DELETE', '/big.bin');
    expect(del.status).toBe(204);
    expect(await servedNames(root)).toEqual([]);
    // --retain-versions 0: neither the replaced nor the deleted file was kept in the state dir.
    expect(await treeBytes(state)).toBeLessThan(64 * MiB);
  }, 150_000);
});
