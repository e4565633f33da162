/**
 * Cyberduck (Sardine) replayed (clients.md, "Cyberduck"): allprop listings, the Depth-0 PROPFIND
 * for its `SAR:` timestamps, PUT with Expect: 100-continue, the dead-property PROPPATCH that must
 * leave getlastmodified and the ETag alone, a resumed (Content-Range) PUT, the PUT with a lock
 * token that no longer applies and its retry without If, then MOVE, COPY, DELETE and MKCOL.
 */
import { startTestServer, type TestServer } from '../support/testServer';
import {
  DAV,
  ReplayClient,
  SAR,
  UA,
  bytesOf,
  disk,
  expectConflict,
  hdr,
  lockToken,
  microsoftLockinfo,
  onlyResponse,
  prop200,
  propOf,
  responsesByHref,
  sendExpectContinue,
} from './replayKit';

const SARDINE_XML = { 'Content-Type': 'text/xml; charset=utf-8' };
const ALLPROP = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';
const SAR_PROPFIND =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><D:propfind xmlns:D="DAV:" xmlns:s="SAR:"><D:prop>' +
  '<D:getlastmodified/><D:getetag/><D:getcontentlength/><D:resourcetype/><s:lastmodified/><s:lastmodified_server/></D:prop></D:propfind>';
const sarProppatch = (lastmodified: string, server: string) =>
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><D:propertyupdate xmlns:D="DAV:" xmlns:s="SAR:"><D:set><D:prop>' +
  `<s:lastmodified>${lastmodified}</s:lastmodified><s:lastmodified_server>${server}</s:lastmodified_server></D:prop></D:set></D:propertyupdate>`;

describe('Cyberduck (Sardine)', () => {
  let t: TestServer;
  let duck: ReplayClient;
  const content = bytesOf(200, 21);

  beforeAll(async () => {
    t = await startTestServer();
    duck = new ReplayClient(t, UA.cyberduck);
    expect((await t.request('MKCOL', '/d/')).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('upload with a client-side timestamp (/d/f)', () => {
    let etag = '';
    let lastModified = '';

    test('PUT with Expect: 100-continue: 100 first, then 201 with ETag; the bytes on disk', async () => {
      const res = await sendExpectContinue(t.port, 'PUT', '/d/f', { 'User-Agent': UA.cyberduck, 'Content-Type': 'application/octet-stream' }, content);
      expect(res.informational).toEqual([100]);
      expect(res.status).toBe(201);
      etag = hdr(res, 'etag')!;
      lastModified = hdr(res, 'last-modified')!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect((await disk(t).bytes('d/f')).equals(content)).toBe(true);
    });

    test('PROPPATCH {SAR:}lastmodified and lastmodified_server: 207 both 200; getlastmodified, ETag and disk mtime unchanged', async () => {
      const mtimeBefore = await disk(t).mtimeMs('d/f');
      const res = await duck.send('PROPPATCH', '/d/f', SARDINE_XML, sarProppatch('Tue, 14 Nov 2023 22:13:20 GMT', lastModified));
      expect(res.status).toBe(207);
      const r = onlyResponse(res);
      expect(propOf(r, SAR, 'lastmodified')?.status).toBe(200);
      expect(propOf(r, SAR, 'lastmodified_server')?.status).toBe(200);

      const head = await duck.send('HEAD', '/d/f');
      expect(hdr(head, 'etag')).toBe(etag);
      expect(hdr(head, 'last-modified')).toBe(lastModified);
      expect(await disk(t).mtimeMs('d/f')).toBe(mtimeBefore);
    });

    test('PROPFIND Depth 0 with the SAR: props: 207; the dead props come back; lastmodified_server still equals getlastmodified', async () => {
      const res = await duck.send('PROPFIND', '/d/f', { ...SARDINE_XML, Depth: '0' }, SAR_PROPFIND);
      expect(res.status).toBe(207);
      const r = onlyResponse(res);
      expect(prop200(r, SAR, 'lastmodified')).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
      expect(prop200(r, SAR, 'lastmodified_server')).toBe(prop200(r, DAV, 'getlastmodified'));
      expect(prop200(r, DAV, 'getlastmodified')).toBe(lastModified);
      expect(prop200(r, DAV, 'getetag')).toBe(etag);
    });

    test('PROPFIND /d/ Depth 1 allprop: 207; the file with its live properties and the SAR: dead properties', async () => {
      const res = await duck.send('PROPFIND', '/d/', { ...SARDINE_XML, Depth: '1' }, ALLPROP);
      expect(res.status).toBe(207);
      const byHref = responsesByHref(res.xml());
      expect(byHref.has('/d/')).toBe(true);
      const f = byHref.get('/d/f')!;
      expect(prop200(f, DAV, 'getetag')).toBe(etag);
      expect(prop200(f, DAV, 'getcontentlength')).toBe('200');
      expect(prop200(f, DAV, 'getlastmodified')).toBe(lastModified);
      expect(prop200(f, SAR, 'lastmodified')).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
      expect(propOf(byHref.get('/d/')!, DAV, 'resourcetype')?.status).toBe(200);
    });

    test('resume: PUT with Content-Range: bytes 100-199/200: 400, the file byte-identical and its ETag unchanged', async () => {
      const res = await duck.send('PUT', '/d/f', { 'Content-Range': 'bytes 100-199/200', 'Content-Length': 100 }, bytesOf(100, 99));
      expectConflict(res, 400, 'bad-request');
      expect((await disk(t).bytes('d/f')).equals(content)).toBe(true);
      expect(hdr(await duck.send('HEAD', '/d/f'), 'etag')).toBe(etag);
    });
  });

  describe('a PUT with a lock token that no longer applies, and the retry without If', () => {
    test('an unknown token: 412 if-header-false, nothing written; the retry without If: 204', async () => {
      expect((await duck.send('PUT', '/d/u', {}, 'old')).status).toBe(201);
      const res = await duck.send('PUT', '/d/u', { If: '(<urn:uuid:6f1c4b9e-1d2f-4a4b-9c3d-2e5f6a7b8c9d>)' }, 'new');
      expectConflict(res, 412, 'if-header-false');
      expect(await disk(t).text('d/u')).toBe('old');
      const retry = await duck.send('PUT', '/d/u', {}, 'new');
      expect(retry.status).toBe(204);
      expect(await disk(t).text('d/u')).toBe('new');
    });

    test('an expired token (Mountain Duck locked the new file with Second-1, the lock ran out): 412; the retry without If: 204', async () => {
      const mountainDuck = new ReplayClient(t, UA.mountainDuck);
      const lock = await mountainDuck.send('LOCK', '/d/expiring', { ...SARDINE_XML, Timeout: 'Second-1' }, microsoftLockinfo('duck'));
      expect(lock.status).toBe(201);
      const token = lockToken(lock);
      t.clock.advance(1000); // the lock's second has passed, by the server's clock
      const res = await duck.send('PUT', '/d/expiring', { If: `(<${token}>)` }, 'after expiry');
      expectConflict(res, 412, 'if-header-false');
      expect(await disk(t).size('d/expiring')).toBe(0);
      // The LOCK created the (empty) resource (RFC 4918 §7.3), so the retry replaces it.
      const retry = await duck.send('PUT', '/d/expiring', {}, 'after expiry');
      expect(retry.status).toBe(204);
      expect(await disk(t).text('d/expiring')).toBe('after expiry');
    });

    test('an expired token on an existing file: 412; the retry without If: 204', async () => {
      expect((await duck.send('PUT', '/d/e2', {}, 'v1')).status).toBe(201);
      const lock = await duck.send('LOCK', '/d/e2', { ...SARDINE_XML, Timeout: 'Second-1' }, microsoftLockinfo('duck'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      t.clock.advance(1000); // the lock's second has passed, by the server's clock
      expectConflict(await duck.send('PUT', '/d/e2', { If: `(<${token}>)` }, 'v2'), 412, 'if-header-false');
      expect((await duck.send('PUT', '/d/e2', {}, 'v2')).status).toBe(204);
      expect(await disk(t).text('d/e2')).toBe('v2');
    });

    test('locked by someone else: the PUT with a stale token: 412; the retry without If: 423 lock-token-submitted; content kept', async () => {
      expect((await duck.send('PUT', '/d/theirs', {}, 'theirs')).status).toBe(201);
      const other = new ReplayClient(t, UA.word);
      const lock = await other.send('LOCK', '/d/theirs', { ...SARDINE_XML, Timeout: 'Second-3600' }, microsoftLockinfo('bob'));
      expect(lock.status).toBe(200);
      const res = await duck.send('PUT', '/d/theirs', { If: '(<urn:uuid:6f1c4b9e-1d2f-4a4b-9c3d-2e5f6a7b8c9d>)' }, 'mine');
      expectConflict(res, 412, 'if-header-false');
      const retry = await duck.send('PUT', '/d/theirs', {}, 'mine');
      expectConflict(retry, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: ['/d/theirs'] });
      expect(await disk(t).text('d/theirs')).toBe('theirs');
    });
  });

  describe('MOVE, COPY, DELETE with If, MKCOL', () => {
    beforeAll(async () => {
      expect((await duck.send('PUT', '/d/m', {}, 'M')).status).toBe(201);
      const patched = await duck.send('PROPPATCH', '/d/m', SARDINE_XML, sarProppatch('Mon, 01 Jan 2024 00:00:00 GMT', 'x'));
      expect(patched.status).toBe(207);
    });

    test('MOVE with Overwrite: T: 201; the SAR: property travels along', async () => {
      const res = await duck.send('MOVE', '/d/m', { Destination: duck.url('/d/m2'), Overwrite: 'T' });
      expect(res.status).toBe(201);
      expect(await disk(t).exists('d/m')).toBe(false);
      expect(await disk(t).text('d/m2')).toBe('M');
      const found = await duck.send('PROPFIND', '/d/m2', { ...SARDINE_XML, Depth: '0' }, SAR_PROPFIND);
      expect(prop200(onlyResponse(found), SAR, 'lastmodified')).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    });

    test('COPY with Overwrite: T: 201 onto a free name, 204 onto an existing one', async () => {
      expect((await duck.send('COPY', '/d/m2', { Destination: duck.url('/d/c'), Overwrite: 'T' })).status).toBe(201);
      expect(await disk(t).text('d/c')).toBe('M');
      expect((await duck.send('PUT', '/d/m2', {}, 'M2')).status).toBe(204);
      expect((await duck.send('COPY', '/d/m2', { Destination: duck.url('/d/c'), Overwrite: 'T' })).status).toBe(204);
      expect(await disk(t).text('d/c')).toBe('M2');
    });

    test('DELETE with If: (<T>) of a file locked by Mountain Duck: 204; without it: 423', async () => {
      const mountainDuck = new ReplayClient(t, UA.mountainDuck);
      const lock = await mountainDuck.send('LOCK', '/d/c', { ...SARDINE_XML, Timeout: 'Second-600' }, microsoftLockinfo('duck'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      expectConflict(await duck.send('DELETE', '/d/c'), 423, 'lock-token-submitted');
      expect((await duck.send('DELETE', '/d/c', { If: `(<${token}>)` })).status).toBe(204);
      expect(await disk(t).exists('d/c')).toBe(false);
    });

    test('MKCOL /d/sub/: 201; again: 405', async () => {
      expect((await duck.send('MKCOL', '/d/sub/')).status).toBe(201);
      expect(await disk(t).isDir('d/sub')).toBe(true);
      expect((await duck.send('MKCOL', '/d/sub/')).status).toBe(405);
    });
  });
});
