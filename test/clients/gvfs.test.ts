/**
 * GVFS (GNOME Files over libsoup) replayed (clients.md, "GVFS"): create after a HEAD 404,
 * replace guarded by If-Match (HEAD then PUT), MKCOL and its errors (GVFS maps 405 to EXISTS and
 * 409 to NOT_FOUND), rename with Overwrite: F (412 is EXISTS). GVFS never locks.
 */
import { startTestServer, type TestServer } from '../support/testServer';
import { text } from '../support/xmlQuery';
import { KEEPDAV, ReplayClient, UA, disk, expectConflict, hdr } from './replayKit';

describe('GVFS (gvfs/1.x)', () => {
  let t: TestServer;
  let gvfs: ReplayClient;

  beforeAll(async () => {
    t = await startTestServer();
    gvfs = new ReplayClient(t, UA.gvfs);
  });
  afterAll(async () => {
    await t.close();
  });

  test('create: HEAD /f: 404, then PUT /f: 201 with ETag', async () => {
    const head = await gvfs.send('HEAD', '/f.txt');
    expect(head.status).toBe(404);
    expect(head.body.length).toBe(0);
    const put = await gvfs.send('PUT', '/f.txt', { 'Content-Type': 'text/plain' }, 'first');
    expect(put.status).toBe(201);
    expect(hdr(put, 'etag')).toMatch(/^"[^"]+"$/);
    expect(await disk(t).text('f.txt')).toBe('first');
  });

  describe('replace with If-Match', () => {
    let etag = '';
    beforeAll(async () => {
      const put = await gvfs.send('PUT', '/r.txt', {}, 'version 1');
      etag = hdr(put, 'etag')!;
    });

    test('HEAD with If-Match: "E": 200 (same ETag); with a stale E: 412', async () => {
      const ok = await gvfs.send('HEAD', '/r.txt', { 'If-Match': etag });
      expect(ok.status).toBe(200);
      expect(hdr(ok, 'etag')).toBe(etag);
      expect(hdr(ok, 'content-length')).toBe('9');
      const stale = await gvfs.send('HEAD', '/r.txt', { 'If-Match': '"stale"' });
      expect(stale.status).toBe(412);
      expect(stale.body.length).toBe(0);
      expect(hdr(stale, 'etag')).toBe(etag);
    });

    test('PUT with If-Match: "E": 204, new ETag; the old E again: 412 (GVFS: WRONG_ETAG), content kept', async () => {
      const res = await gvfs.send('PUT', '/r.txt', { 'If-Match': etag }, 'version 2');
      expect(res.status).toBe(204);
      const next = hdr(res, 'etag')!;
      expect(next).not.toBe(etag);
      expect(await disk(t).text('r.txt')).toBe('version 2');

      const stale = await gvfs.send('PUT', '/r.txt', { 'If-Match': etag }, 'version 3');
      expectConflict(stale, 412, 'precondition-failed');
      expect(hdr(stale, 'etag')).toBe(next);
      expect(await disk(t).text('r.txt')).toBe('version 2');
    });

    test('PUT with If-Match on a file that does not exist: 412, nothing created', async () => {
      const res = await gvfs.send('PUT', '/gone.txt', { 'If-Match': etag }, 'x');
      expectConflict(res, 412, 'precondition-failed');
      expect(await disk(t).exists('gone.txt')).toBe(false);
    });
  });

  describe('MKCOL', () => {
    test('MKCOL /d/: 201; again: 405 already-exists (GVFS: EXISTS)', async () => {
      expect((await gvfs.send('MKCOL', '/d/')).status).toBe(201);
      expect(await disk(t).isDir('d')).toBe(true);
      const again = await gvfs.send('MKCOL', '/d/');
      expect(again.status).toBe(405);
      expectConflict(again, 405, 'already-exists');
    });

    test('MKCOL with a missing parent: 409 parent-missing naming the nearest missing ancestor (GVFS: NOT_FOUND)', async () => {
      const res = await gvfs.send('MKCOL', '/nope/deeper/d/');
      expectConflict(res, 409, 'parent-missing');
      expect(text(res.xml(), KEEPDAV, 'missing')?.trim()).toBe('/nope/');
      expect(await disk(t).exists('nope')).toBe(false);
    });
  });

  describe('rename with Overwrite: F', () => {
    test('onto a free name: 201; the source gone', async () => {
      expect((await gvfs.send('PUT', '/a.txt', {}, 'A')).status).toBe(201);
      const res = await gvfs.send('MOVE', '/a.txt', { Destination: gvfs.url('/b.txt'), Overwrite: 'F' });
      expect(res.status).toBe(201);
      expect(await disk(t).exists('a.txt')).toBe(false);
      expect(await disk(t).text('b.txt')).toBe('A');
    });

    test('onto an existing name: 412 destination-exists (GVFS: EXISTS); both untouched', async () => {
      expect((await gvfs.send('PUT', '/c.txt', {}, 'C')).status).toBe(201);
      const res = await gvfs.send('MOVE', '/c.txt', { Destination: gvfs.url('/b.txt'), Overwrite: 'F' });
      expectConflict(res, 412, 'destination-exists');
      expect(await disk(t).text('c.txt')).toBe('C');
      expect(await disk(t).text('b.txt')).toBe('A');
    });

    test('a folder onto a free name: 201, its members along', async () => {
      expect((await gvfs.send('PUT', '/d/inside.txt', {}, 'I')).status).toBe(201);
      const res = await gvfs.send('MOVE', '/d/', { Destination: gvfs.url('/e/'), Overwrite: 'F' });
      expect(res.status).toBe(201);
      expect(await disk(t).text('e/inside.txt')).toBe('I');
      expect(await disk(t).exists('d')).toBe(false);
    });
  });
});
