/**
 * Sync clients replayed (clients.md, "rclone" and "Nextcloud/ownCloud-style sync client"):
 * rclone's listing, MKCOL chain, uploads stating X-OC-Mtime with OC-Checksum, its clean-up DELETE
 * after a failed upload, COPY/MOVE with X-OC-Mtime, PROPPATCH {DAV:}lastmodified, quota and
 * retries; the Nextcloud desktop client's If-Match uploads, the 412 that makes it write a
 * conflict copy, and new files.
 */
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/testServer';
import { findAll, text } from '../support/xmlQuery';
import {
  DAV,
  ReplayClient,
  UA,
  bytesOf,
  davPropfind,
  disk,
  expectConflict,
  hdr,
  httpDate,
  lockToken,
  microsoftLockinfo,
  onlyResponse,
  prop200,
  propOf,
  responsesByHref,
  statusCode,
} from './replayKit';

const RCLONE_XML = { 'Content-Type': 'application/xml' };
/** rclone's listing body (backend/webdav, owncloud vendor: also oc:checksums and oc:permissions). */
const RCLONE_LIST =
  '<?xml version="1.0" encoding="utf-8" ?>\n<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">\n' +
  ' <d:prop>\n  <d:displayname />\n  <d:getlastmodified />\n  <d:getcontentlength />\n  <d:resourcetype />\n  <d:getcontenttype />\n' +
  '  <oc:checksums />\n  <oc:permissions />\n </d:prop>\n</d:propfind>\n';
const RCLONE_LASTMODIFIED = (seconds: number) =>
  `<?xml version="1.0" encoding="utf-8" ?>\n<D:propertyupdate xmlns:D="DAV:">\n <D:set>\n  <D:prop>\n   <lastmodified xmlns="DAV:">${seconds}</lastmodified>\n  </D:prop>\n </D:set>\n</D:propertyupdate>`;
const QUOTA = '<?xml version="1.0" encoding="utf-8" ?>\n<D:propfind xmlns:D="DAV:">\n <D:prop>\n  <D:quota-available-bytes/>\n  <D:quota-used-bytes/>\n </D:prop>\n</D:propfind>\n';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('sync clients', () => {
  let t: TestServer;
  let rclone: ReplayClient;
  let nextcloud: ReplayClient;

  beforeAll(async () => {
    t = await startTestServer();
    rclone = new ReplayClient(t, UA.rclone);
    nextcloud = new ReplayClient(t, UA.nextcloud);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('rclone (vendor owncloud / nextcloud)', () => {
    const content = bytesOf(4096, 31);
    const upload = (path: string, body: Buffer, mtime: number, extra: Record<string, string> = {}) =>
      rclone.send('PUT', path, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream', 'X-OC-Mtime': String(mtime), 'OC-Checksum': `SHA1:${sha1(body)}`, ...extra }, body);

    test('1. PROPFIND /dir/ Depth 1: 207, every href under /dir/, the asked DAV: properties 200, oc:checksums too (issue 13)', async () => {
      expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
      expect((await t.request('MKCOL', '/dir/sub/')).status).toBe(201);
      expect((await t.request('PUT', '/dir/x.txt', { body: 'xx' })).status).toBe(201);
      const res = await rclone.send('PROPFIND', '/dir/', { ...RCLONE_XML, Depth: '1' }, RCLONE_LIST);
      expect(res.status).toBe(207);
      const byHref = responsesByHref(res.xml());
      expect([...byHref.keys()].sort()).toEqual(['/dir/', '/dir/sub/', '/dir/x.txt']);
      const x = byHref.get('/dir/x.txt')!;
      expect(prop200(x, DAV, 'displayname')).toBe('x.txt');
      expect(prop200(x, DAV, 'getcontentlength')).toBe('2');
      expect(prop200(x, DAV, 'getlastmodified')).toMatch(/GMT$/);
      const checksums = propOf(x, 'http://owncloud.org/ns', 'checksums');
      expect(checksums?.status).toBe(200);
      expect(text(checksums!.el, 'http://owncloud.org/ns', 'checksum')).toBe(`SHA1:${createHash('sha1').update('xx').digest('hex')} MD5:${createHash('md5').update('xx').digest('hex')}`);
      expect(findAll(propOf(byHref.get('/dir/sub/')!, DAV, 'resourcetype')!.el, DAV, 'collection')).toHaveLength(1);
    });

    test('2. MKCOL /a/b/ with /a missing: 409; rclone then makes /a/ and /a/b/: 201, 201; again: 405', async () => {
      expectConflict(await rclone.send('MKCOL', '/a/b/'), 409, 'parent-missing');
      expect((await rclone.send('MKCOL', '/a/')).status).toBe(201);
      expect((await rclone.send('MKCOL', '/a/b/')).status).toBe(201);
      expect((await rclone.send('MKCOL', '/a/b/')).status).toBe(405);
      expect(await disk(t).isDir('a/b')).toBe(true);
    });

    test('3. PUT with X-OC-Mtime: 1700000000 and OC-Checksum: 201, X-OC-MTime: accepted; PROPFIND getlastmodified = Tue, 14 Nov 2023 22:13:20 GMT', async () => {
      const res = await upload('/a/b/f', content, 1700000000);
      expect(res.status).toBe(201);
      expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
      expect(hdr(res, 'last-modified')).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
      // The ETag is computed after the stated mtime is applied: the answer's ETag is the one HEAD shows.
      expect(hdr(await rclone.send('HEAD', '/a/b/f'), 'etag')).toBe(hdr(res, 'etag'));
      expect((await disk(t).bytes('a/b/f')).equals(content)).toBe(true);
      expect(await disk(t).mtimeMs('a/b/f')).toBe(1700000000_000);
      const found = onlyResponse(await rclone.send('PROPFIND', '/a/b/f', { ...RCLONE_XML, Depth: '0' }, RCLONE_LIST));
      expect(prop200(found, DAV, 'getlastmodified')).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
    });

    test('4. the same PUT again (no If-Match): 204', async () => {
      const res = await upload('/a/b/f', content, 1700000000);
      expect(res.status).toBe(204);
      expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
      expect(await disk(t).mtimeMs('a/b/f')).toBe(1700000000_000);
    });

    test('5a. a failed (stale) upload, then rclone\'s unconditional DELETE a second later: 409 stale-delete, the newer file stays', async () => {
      const older = bytesOf(100, 32);
      const res = await upload('/a/b/f', older, 1600000000);
      expectConflict(res, 409, 'stale-version');
      expect((await disk(t).bytes('a/b/f')).equals(content)).toBe(true);
      t.clock.advance(1000); // rclone's clean-up comes a second later, by the server's clock
      const del = await rclone.send('DELETE', '/a/b/f');
      expectConflict(del, 409, 'stale-delete');
      expect((await disk(t).bytes('a/b/f')).equals(content)).toBe(true);
    });

    test('5b. an upload failing on a lock (423), then the DELETE: 423 as well, the file stays', async () => {
      expect((await t.request('PUT', '/a/locked', { body: 'held' })).status).toBe(201);
      const lock = await t.request('LOCK', '/a/locked', { headers: { 'Content-Type': 'application/xml', Timeout: 'Second-600' }, body: microsoftLockinfo('someone') });
      const token = lockToken(lock);
      expectConflict(await upload('/a/locked', content, 1700000000), 423, 'lock-token-submitted');
      expectConflict(await rclone.send('DELETE', '/a/locked'), 423, 'lock-token-submitted');
      expect(await disk(t).text('a/locked')).toBe('held');
      expect((await t.request('UNLOCK', '/a/locked', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
    });

    test('6. COPY and MOVE with Overwrite: T and X-OC-Mtime: 201, accepted, the mtime set on the destination', async () => {
      expect((await rclone.send('MKCOL', '/a/c/')).status).toBe(201);
      const copied = await rclone.send('COPY', '/a/b/f', { Destination: rclone.url('/a/c/f'), Overwrite: 'T', 'X-OC-Mtime': '1700000100' });
      expect(copied.status).toBe(201);
      expect(hdr(copied, 'x-oc-mtime')).toBe('accepted');
      expect((await disk(t).bytes('a/c/f')).equals(content)).toBe(true);
      expect(await disk(t).mtimeMs('a/c/f')).toBe(1700000100_000);
      expect(await disk(t).mtimeMs('a/b/f')).toBe(1700000000_000);

      const again = await rclone.send('COPY', '/a/b/f', { Destination: rclone.url('/a/c/f'), Overwrite: 'T', 'X-OC-Mtime': '1700000200' });
      expect(again.status).toBe(204);
      expect(await disk(t).mtimeMs('a/c/f')).toBe(1700000200_000);

      const moved = await rclone.send('MOVE', '/a/c/f', { Destination: rclone.url('/a/c/g'), Overwrite: 'T', 'X-OC-Mtime': '1700000300' });
      expect(moved.status).toBe(201);
      expect(hdr(moved, 'x-oc-mtime')).toBe('accepted');
      expect(await disk(t).exists('a/c/f')).toBe(false);
      expect(await disk(t).mtimeMs('a/c/g')).toBe(1700000300_000);
      const found = onlyResponse(await rclone.send('PROPFIND', '/a/c/g', { ...RCLONE_XML, Depth: '0' }, RCLONE_LIST));
      expect(prop200(found, DAV, 'getlastmodified')).toBe(httpDate(1700000300));
    });

    test('7. MOVE of the collection /a/b/ to /z/ (Overwrite: T): 201, its members along', async () => {
      const res = await rclone.send('MOVE', '/a/b/', { Destination: rclone.url('/z/'), Overwrite: 'T' });
      expect(res.status).toBe(201);
      expect(await disk(t).exists('a/b')).toBe(false);
      expect((await disk(t).bytes('z/f')).equals(content)).toBe(true);
    });

    test('8. PROPPATCH {DAV:}lastmodified = 1600000000: 207 with exactly one response holding one 200 propstat; mtime set', async () => {
      const res = await rclone.send('PROPPATCH', '/z/f', RCLONE_XML, RCLONE_LASTMODIFIED(1600000000));
      expect(res.status).toBe(207);
      const ms = res.xml();
      const responses = findAll(ms, DAV, 'response');
      expect(responses).toHaveLength(1);
      const propstats = findAll(responses[0], DAV, 'propstat');
      expect(propstats.map(statusCode)).toEqual([200]);
      expect(propOf(responses[0], DAV, 'lastmodified')?.status).toBe(200);
      expect(await disk(t).mtimeMs('z/f')).toBe(1600000000_000);
      const found = onlyResponse(await rclone.send('PROPFIND', '/z/f', { ...RCLONE_XML, Depth: '0' }, RCLONE_LIST));
      expect(prop200(found, DAV, 'getlastmodified')).toBe(httpDate(1600000000));
    });

    test('9. PROPFIND / Depth 0 for the quota: 207 with whole numbers', async () => {
      const res = await rclone.send('PROPFIND', '/', { ...RCLONE_XML, Depth: '0' }, QUOTA);
      expect(res.status).toBe(207);
      const r = onlyResponse(res);
      expect(prop200(r, DAV, 'quota-available-bytes')).toMatch(/^\d+$/);
      expect(prop200(r, DAV, 'quota-used-bytes')).toMatch(/^\d+$/);
    });

    test('10. a 423 answer, then the retry once the lock is gone: 204 with the retry\'s bytes', async () => {
      const lock = await t.request('LOCK', '/z/f', { headers: { 'Content-Type': 'application/xml', Timeout: 'Second-600' }, body: microsoftLockinfo('someone') });
      expect(lock.status).toBe(200);
      const next = bytesOf(2048, 33);
      expectConflict(await upload('/z/f', next, 1700000500), 423, 'lock-token-submitted');
      expect((await disk(t).bytes('z/f')).equals(content)).toBe(true);
      expect((await t.request('UNLOCK', '/z/f', { headers: { 'Lock-Token': hdr(lock, 'lock-token')! } })).status).toBe(204);
      const retry = await upload('/z/f', next, 1700000500);
      expect(retry.status).toBe(204);
      expect((await disk(t).bytes('z/f')).equals(next)).toBe(true);
      expect(await disk(t).mtimeMs('z/f')).toBe(1700000500_000);
    });
  });

  describe('Nextcloud-style desktop client', () => {
    const ncPut = (path: string, body: Buffer, mtime: number, extra: Record<string, string> = {}) =>
      nextcloud.send('PUT', path, {
        'Content-Type': 'application/octet-stream',
        'X-OC-Mtime': String(mtime),
        'OC-Checksum': `SHA1:${sha1(body)}`,
        'OC-Total-Length': String(body.length),
        ...extra,
      }, body);
    let etag = '';

    beforeAll(async () => {
      expect((await nextcloud.send('MKCOL', '/nc/')).status).toBe(201);
    });

    test('a new file without If-Match: 201 with ETag = OC-ETag and X-OC-MTime: accepted', async () => {
      const res = await ncPut('/nc/notes.txt', Buffer.from('v1'), 1700000000);
      expect(res.status).toBe(201);
      etag = hdr(res, 'etag')!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(hdr(res, 'oc-etag')).toBe(etag);
      expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
      expect(await disk(t).mtimeMs('nc/notes.txt')).toBe(1700000000_000);
    });

    test('PUT with X-OC-Mtime, If-Match: "E", OC-Checksum: 204 with a new ETag, OC-ETag and X-OC-MTime: accepted', async () => {
      const res = await ncPut('/nc/notes.txt', Buffer.from('v2'), 1700000600, { 'If-Match': etag });
      expect(res.status).toBe(204);
      const next = hdr(res, 'etag')!;
      expect(next).not.toBe(etag);
      expect(hdr(res, 'oc-etag')).toBe(next);
      expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
      expect(await disk(t).text('nc/notes.txt')).toBe('v2');
      expect(await disk(t).mtimeMs('nc/notes.txt')).toBe(1700000600_000);
      const propEtag = prop200(onlyResponse(await nextcloud.send('PROPFIND', '/nc/notes.txt', { Depth: '0' }, davPropfind('getetag'))), DAV, 'getetag');
      expect(propEtag).toBe(next);
      etag = next;
    });

    test('a stale E: 412 with the current ETag header; then the conflict copy with OC-Conflict headers: 201', async () => {
      const stale = '"an-etag-from-the-last-sync"';
      const res = await ncPut('/nc/notes.txt', Buffer.from('local edit'), 1700000700, { 'If-Match': stale });
      expectConflict(res, 412, 'precondition-failed');
      expect(hdr(res, 'etag')).toBe(etag);
      expect(await disk(t).text('nc/notes.txt')).toBe('v2');

      const copy = await ncPut('/nc/notes%20(conflicted%20copy%202024-05-01%20101500).txt', Buffer.from('local edit'), 1700000700, {
        'OC-Conflict': '1',
        'OC-ConflictBaseEtag': stale,
        'OC-ConflictBaseMtime': '1700000000',
        'OC-ConflictBaseFileId': '00000042ocabcdef',
      });
      expect(copy.status).toBe(201);
      expect(await disk(t).text('nc/notes (conflicted copy 2024-05-01 101500).txt')).toBe('local edit');
      expect(await disk(t).text('nc/notes.txt')).toBe('v2');
    });

    test('If-Match naming the current ETag lets an upload with an older X-OC-Mtime replace the file (204); without it: 409 stale-version', async () => {
      expectConflict(await ncPut('/nc/notes.txt', Buffer.from('restored'), 1600000000), 409, 'stale-version');
      expect(await disk(t).text('nc/notes.txt')).toBe('v2');
      const res = await ncPut('/nc/notes.txt', Buffer.from('restored'), 1600000000, { 'If-Match': etag });
      expect(res.status).toBe(204);
      expect(await disk(t).text('nc/notes.txt')).toBe('restored');
      expect(await disk(t).mtimeMs('nc/notes.txt')).toBe(1600000000_000);
    });

    test('a busy resource: 423; on the next sync the same upload: 204', async () => {
      const head = await nextcloud.send('HEAD', '/nc/notes.txt');
      const current = hdr(head, 'etag')!;
      const lock = await t.request('LOCK', '/nc/notes.txt', { headers: { 'Content-Type': 'application/xml', Timeout: 'Second-600' }, body: microsoftLockinfo('office user') });
      expect(lock.status).toBe(200);
      expectConflict(await ncPut('/nc/notes.txt', Buffer.from('sync'), 1700000900, { 'If-Match': current }), 423, 'lock-token-submitted');
      expect((await t.request('UNLOCK', '/nc/notes.txt', { headers: { 'Lock-Token': hdr(lock, 'lock-token')! } })).status).toBe(204);
      const retry = await ncPut('/nc/notes.txt', Buffer.from('sync'), 1700000900, { 'If-Match': current });
      expect(retry.status).toBe(204);
      expect(await disk(t).text('nc/notes.txt')).toBe('sync');
    });
  });
});
