/**
 * Checksums (README, "Checksums"): SHA-1 and MD5 computed while the upload streams (a large one's
 * only for what its client claims, the rest read back after the answer), kept with the version
 * record, a client's OC-Checksum verified before the rename (400 checksum-mismatch, nothing
 * stored), published as oc:checksums and answered in OC-Checksum on PUT, GET and HEAD.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { codeOf, hdr } from '../support/conflictKit';
import { DAV, first, text } from '../support/xmlQuery';
import { OFFLOAD_MIN_BYTES } from '../../src/storage/contentDigests';
import { stopHashingThread } from '../../src/storage/hashingThread';
import { useNativeHashingForTests } from '../../src/storage/nativeHashing';
import { retryWhile } from '../support/retryWhile';
import { uploadTemporaries } from '../support/uploadTemporaries';

const OC = 'http://owncloud.org/ns';
const sha1 = (b: string) => createHash('sha1').update(b).digest('hex');
const md5 = (b: string) => createHash('md5').update(b).digest('hex');
const PROPFIND_CHECKSUMS = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:checksums/><d:getetag/></d:prop></d:propfind>';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function checksumsProperty(path: string, depth = '0'): Promise<string | undefined> {
  const res = await t.request('PROPFIND', path, { headers: { Depth: depth, 'Content-Type': 'application/xml' }, body: PROPFIND_CHECKSUMS });
  expect(res.status).toBe(207);
  const checksums = first(res.xml(), OC, 'checksums');
  return checksums ? text(checksums, OC, 'checksum') : undefined;
}

describe('checksums computed on the way in', () => {
  const body = 'hello checksums\n';

  it('a PUT answers OC-Checksum; GET and HEAD answer it too; PROPFIND publishes oc:checksums', async () => {
    const put = await t.request('PUT', '/a.txt', { body });
    expect(put.status).toBe(201);
    expect(hdr(put, 'oc-checksum')).toBe(`SHA1:${sha1(body)}`);
    expect(hdr(await t.request('GET', '/a.txt'), 'oc-checksum')).toBe(`SHA1:${sha1(body)}`);
    expect(hdr(await t.request('HEAD', '/a.txt'), 'oc-checksum')).toBe(`SHA1:${sha1(body)}`);
    expect(hdr(await t.request('GET', '/a.txt', { headers: { Range: 'bytes=0-3' } }), 'oc-checksum')).toBe(`SHA1:${sha1(body)}`);
    expect(await checksumsProperty('/a.txt')).toBe(`SHA1:${sha1(body)} MD5:${md5(body)}`);
  });

  it('a Depth 1 listing has each file\'s checksums, none on collections', async () => {
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/one', { body: '1' })).status).toBe(201);
    const res = await t.request('PROPFIND', '/dir/', { headers: { Depth: '1', 'Content-Type': 'application/xml' }, body: PROPFIND_CHECKSUMS });
    expect(res.text).toContain(`SHA1:${sha1('1')} MD5:${md5('1')}`);
    expect(res.text.match(/SHA1:/g)).toHaveLength(1);
  });

  it('an mtime-only change and a MOVE keep them; a change behind the server\'s back drops them', async () => {
    expect((await t.request('PUT', '/m.txt', { body })).status).toBe(201);
    expect((await t.request('PROPPATCH', '/m.txt', {
      headers: { 'Content-Type': 'application/xml' },
      body: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:lastmodified>1600000000</D:lastmodified></D:prop></D:set></D:propertyupdate>',
    })).status).toBe(207);
    expect(await checksumsProperty('/m.txt')).toBe(`SHA1:${sha1(body)} MD5:${md5(body)}`);
    expect((await t.request('MOVE', '/m.txt', { headers: { Destination: `${t.url}/moved.txt` } })).status).toBe(201);
    expect(await checksumsProperty('/moved.txt')).toBe(`SHA1:${sha1(body)} MD5:${md5(body)}`);
    await writeFile(join(t.root, 'moved.txt'), 'edited on the host');
    expect(await checksumsProperty('/moved.txt')).toBeUndefined();
    expect(hdr(await t.request('GET', '/moved.txt'), 'oc-checksum')).toBeUndefined();
  });
});

describe('a large upload (hashed off the main thread, or read back after the answer)', () => {
  const large = randomBytes(OFFLOAD_MIN_BYTES * 2 + 4_321);
  const other = () => randomBytes(OFFLOAD_MIN_BYTES + 1);
  const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
  const both = (b: Buffer) => `SHA1:${hex('sha1', b)} MD5:${hex('md5', b)}`;
  /** oc:checksums once it shows an MD5 (read back after the answer), or what it shows after 20 s. */
  const md5Shown = (path: string) => retryWhile(() => checksumsProperty(path), (shown) => !shown?.includes('MD5:'), 20_000, 100);

  it('gets the same checksums as a small one: in the answer, the listing and the version record', async () => {
    const res = await t.request('PUT', '/large.bin', { body: large, headers: { 'OC-Checksum': `MD5:${hex('md5', large)}` } });
    expect(res.status).toBe(201);
    expect(hdr(res, 'oc-checksum')).toBe(`SHA1:${hex('sha1', large)}`);
    expect(await checksumsProperty('/large.bin')).toBe(`SHA1:${hex('sha1', large)} MD5:${hex('md5', large)}`);
    expect((await readFile(join(t.root, 'large.bin'))).equals(large)).toBe(true);
  });

  it('a mismatch is 400 checksum-mismatch and keeps the old content, leaving no temporary file', async () => {
    const corrupted = Buffer.from(large);
    corrupted[corrupted.length - 1] ^= 1;
    const res = await t.request('PUT', '/large.bin', { body: corrupted, headers: { 'OC-Checksum': `SHA1:${hex('sha1', large)}` } });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('checksum-mismatch');
    expect(res.text).toContain(hex('sha1', corrupted));
    expect((await readFile(join(t.root, 'large.bin'))).equals(large)).toBe(true);
    expect(await uploadTemporaries(t)).toEqual([]);
  });

  it('with a claimed SHA-1 alone: the answer\'s SHA-1 at once, the MD5 read back after the answer', async () => {
    const res = await t.request('PUT', '/later.bin', { body: large, headers: { 'OC-Checksum': `SHA1:${hex('sha1', large)}` } });
    expect(res.status).toBe(201);
    expect(hdr(res, 'oc-checksum')).toBe(`SHA1:${hex('sha1', large)}`);
    const soon = await checksumsProperty('/later.bin');
    expect([`SHA1:${hex('sha1', large)}`, both(large)]).toContain(soon);
    expect(await md5Shown('/later.bin')).toBe(both(large));
    expect(hdr(await t.request('GET', '/later.bin', { headers: { Range: 'bytes=0-0' } }), 'oc-checksum')).toBe(`SHA1:${hex('sha1', large)}`);
  });

  it('with no claim: not hashed on the way in, no OC-Checksum in the answer; both digests read back after it', async () => {
    const res = await t.request('PUT', '/unclaimed.bin', { body: large });
    expect(res.status).toBe(201);
    expect(hdr(res, 'oc-checksum')).toBeUndefined();
    expect(hdr(res, 'etag')).toBeDefined();
    const soon = await checksumsProperty('/unclaimed.bin');
    expect([undefined, both(large)]).toContain(soon);
    expect(await md5Shown('/unclaimed.bin')).toBe(both(large));
    expect(hdr(await t.request('GET', '/unclaimed.bin', { headers: { Range: 'bytes=0-0' } }), 'oc-checksum')).toBe(`SHA1:${hex('sha1', large)}`);
    expect((await readFile(join(t.root, 'unclaimed.bin'))).equals(large)).toBe(true);
  });

  it('with no claim and no native helper: the hashing thread reads both digests back', async () => {
    useNativeHashingForTests(false);
    try {
      expect((await t.request('PUT', '/unclaimed-thread.bin', { body: large })).status).toBe(201);
      expect(await md5Shown('/unclaimed-thread.bin')).toBe(both(large));
    } finally {
      useNativeHashingForTests(true);
    }
  });

  it('a version replaced or moved before its MD5 is read back never shows another content\'s MD5', async () => {
    const other = randomBytes(large.length);
    expect((await t.request('PUT', '/raced.bin', { body: large })).status).toBe(201);
    expect((await t.request('PUT', '/raced.bin', { body: other })).status).toBe(204);
    expect(await md5Shown('/raced.bin')).toBe(`SHA1:${hex('sha1', other)} MD5:${hex('md5', other)}`);
    expect((await t.request('PUT', '/moving.bin', { body: large })).status).toBe(201);
    expect((await t.request('MOVE', '/moving.bin', { headers: { Destination: `${t.url}/moved.bin` } })).status).toBe(201);
    // looking at the moved version queues it again if its MD5 was still missing
    expect(await md5Shown('/moved.bin')).toBe(`SHA1:${hex('sha1', large)} MD5:${hex('md5', large)}`);
  });

  it('a version changed on disk before its MD5 is read back gets none, and shows no checksums', async () => {
    expect((await t.request('PUT', '/edited.bin', { body: large })).status).toBe(201);
    await writeFile(join(t.root, 'edited.bin'), other());
    expect(await checksumsProperty('/edited.bin')).toBeUndefined();
    await t.server.services.digestCompletion.idle();
    expect(await checksumsProperty('/edited.bin')).toBeUndefined();
  });

  it('a version whose MD5 was not read back before a restart gets it once looked at', async () => {
    await t.server.services.digestCompletion.stop(); // as a server stopping right after the answer
    expect((await t.request('PUT', '/restart.bin', { body: large })).status).toBe(201);
    await t.restart();
    expect(await md5Shown('/restart.bin')).toBe(`SHA1:${hex('sha1', large)} MD5:${hex('md5', large)}`);
  });

  it('when the hashing thread stops during the upload, the checksums are read back and still right', async () => {
    useNativeHashingForTests(false); // as without the native helper: only the thread can stop midway
    try {
      const body = randomBytes(OFFLOAD_MIN_BYTES * 4);
      const path = '/interrupted.bin';
      // Claimed, so hashed while it streams.
      const req = http.request(`${t.url}${path}`, { method: 'PUT', headers: { 'Content-Length': body.length, 'OC-Checksum': `SHA1:${hex('sha1', body)}` } });
      const answered = new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
      req.write(body.subarray(0, OFFLOAD_MIN_BYTES * 2));
      await new Promise((resolve) => setTimeout(resolve, 200)); // part of it is with the hashing thread
      await stopHashingThread();
      req.end(body.subarray(OFFLOAD_MIN_BYTES * 2));
      const res = await answered;
      res.resume();
      expect(res.statusCode).toBe(201);
      expect(await md5Shown(path)).toBe(`SHA1:${hex('sha1', body)} MD5:${hex('md5', body)}`);
    } finally {
      useNativeHashingForTests(true);
    }
  });
});

describe('OC-Checksum sent by the client', () => {
  it.each([
    ['SHA1', (b: string) => `SHA1:${sha1(b)}`],
    ['MD5 in other letter cases', (b: string) => `md5:${md5(b).toUpperCase()}`],
    ['both', (b: string) => `SHA1:${sha1(b)} MD5:${md5(b)}`],
    ['Adler32 (not computed here: accepted unverified)', () => 'ADLER32:0badc0de'],
  ])('%s that matches is stored (201)', async (label, header) => {
    const body = `content for ${label}`;
    const path = `/ok-${label.split(' ')[0]}.txt`;
    const res = await t.request('PUT', path, { body, headers: { 'OC-Checksum': header(body) } });
    expect(res.status).toBe(201);
    expect(await readFile(join(t.root, path.slice(1)), 'utf8')).toBe(body);
  });

  it('a mismatch is 400 checksum-mismatch and the old content, ETag and directory stay as they were', async () => {
    const put = await t.request('PUT', '/keep.txt', { body: 'good' });
    const etag = hdr(put, 'etag');
    const res = await t.request('PUT', '/keep.txt', { body: 'corrupted in transit', headers: { 'OC-Checksum': `SHA1:${sha1('what the client had')}` } });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('checksum-mismatch');
    expect(res.text).toContain(sha1('corrupted in transit'));
    expect(await readFile(join(t.root, 'keep.txt'), 'utf8')).toBe('good');
    expect(hdr(await t.request('HEAD', '/keep.txt'), 'etag')).toBe(etag);
    expect(await uploadTemporaries(t)).toEqual([]);
  });

  it('a mismatch on a new file creates nothing', async () => {
    const res = await t.request('PUT', '/never.txt', { body: 'x', headers: { 'OC-Checksum': `MD5:${md5('y')}` } });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('checksum-mismatch');
    expect((await t.request('GET', '/never.txt')).status).toBe(404);
  });

  it.each(['SHA1:xyz', 'SHA1:' + 'a'.repeat(39), 'no-colon'])('a malformed OC-Checksum %p is 400 bad-request', async (value) => {
    const res = await t.request('PUT', '/bad.txt', { body: 'x', headers: { 'OC-Checksum': value } });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('bad-request');
  });
});
