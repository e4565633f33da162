/**
 * contentDigests.ts: an upload's SHA-1 and MD5, hashed in place when small or unannounced, on the
 * hashing thread when announced large, and read back from the written bytes when that thread
 * stops mid-upload. Every answer is checked against node:crypto over the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { hashingThreadRunning, OFFLOAD_MIN_BYTES, startContentDigests, stopHashingThread, type ContentDigests } from '../../../src/storage/contentDigests';
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

afterAll(() => stopHashingThread());

describe('content digests', () => {
  it('a process that hashes a large body on the thread gets its digests, then ends by itself', () => {
    const module = require.resolve('../../../src/storage/contentDigests');
    const script = `const d = require(${JSON.stringify(module)}).startContentDigests(${OFFLOAD_MIN_BYTES}); ` +
      `Promise.resolve(d.update([Buffer.alloc(${OFFLOAD_MIN_BYTES}, 7)])).then(() => d.result(() => { throw new Error('read back'); })).then((r) => console.log(r.sha1))`;
    const out = execFileSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', script], { timeout: 30_000 });
    expect(out.toString()).toBe(`${expected(Buffer.alloc(OFFLOAD_MIN_BYTES, 7)).sha1}\n`);
  });

  const large = randomBytes(OFFLOAD_MIN_BYTES + 3_000_017);

  it('an announced large body is hashed on the hashing thread, in order, whatever the piece sizes', async () => {
    const digester = startContentDigests(large.length);
    for (const piece of pieces(large)) await digester.update([piece]);
    expect(await digester.result(neverReadBack)).toEqual(expected(large));
  });

  it('several large bodies at once keep their own digests', async () => {
    const other = randomBytes(OFFLOAD_MIN_BYTES + 12_345);
    const a = startContentDigests(large.length);
    const b = startContentDigests(other.length);
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
      const digester = startContentDigests(announced);
      expect(digester.update(pieces(bytes))).toBeUndefined(); // nothing to wait for
      expect(await digester.result(neverReadBack)).toEqual(expected(bytes));
    }
  });

  it('when the hashing thread stops mid-upload, the digests come from the bytes read back', async () => {
    const digester = startContentDigests(large.length);
    const all = pieces(large);
    for (const piece of all.slice(0, 10)) await digester.update([piece]);
    await stopHashingThread();
    for (const piece of all.slice(10)) await digester.update([piece]);
    expect(await digester.result(() => readBackOf(large))).toEqual(expected(large));
    // and the next large upload has a thread again
    const next = startContentDigests(large.length);
    await next.update([large]);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });

  it('a cancelled upload leaves the thread serving the next one', async () => {
    const cancelled = startContentDigests(large.length);
    await cancelled.update([large.subarray(0, 5_000_000)]);
    cancelled.cancel();
    const next = startContentDigests(large.length);
    for (const piece of pieces(large)) await next.update([piece]);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });
});

describe('an idle hashing thread', () => {
  beforeAll(async () => {
    await stopHashingThread();
    helperThreadsForTests.setIdleStopMs(300);
  });
  afterAll(() => helperThreadsForTests.setIdleStopMs(10_000));

  it('is stopped once no upload has been hashed for the idle time, not while one is; the next large upload gets a new thread', async () => {
    const large = randomBytes(OFFLOAD_MIN_BYTES + 1);
    const done = startContentDigests(large.length);
    await done.update([large]);
    expect(await done.result(neverReadBack)).toEqual(expected(large)); // the thread has fallen idle: its stop is due in 300 ms
    const slow = startContentDigests(large.length);
    await slow.update([large.subarray(0, 1_000_000)]);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the upload's client is slow: its thread stays
    expect(hashingThreadRunning()).toBe(true);
    await slow.update([large.subarray(1_000_000)]);
    expect(await slow.result(neverReadBack)).toEqual(expected(large));
    expect(await retryWhile(async () => hashingThreadRunning(), (running) => running, 5_000)).toBe(false);
    const next = startContentDigests(large.length);
    await next.update(pieces(large));
    expect(hashingThreadRunning()).toBe(true);
    expect(await next.result(neverReadBack)).toEqual(expected(large));
  });
});
