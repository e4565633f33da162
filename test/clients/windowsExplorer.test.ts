/**
 * Windows Explorer (the WebDAV mini-redirector) replayed: copy a file in and save it, rename
 * with Overwrite: F, make a "New folder" and rename it (clients.md, "Windows Explorer copy-in and
 * save"). Every request carries MiniRedir's User-Agent and `translate: f`, as the redirector does.
 */
import { startTestServer, type TestServer } from '../support/testServer';
import {
  DAV,
  KEEPDAV,
  MS,
  ReplayClient,
  UA,
  activeLocksIn,
  bytesOf,
  davPropfind,
  disk,
  discoverLocks,
  expectConflict,
  hdr,
  lockFacts,
  lockToken,
  microsoftLockinfo,
  onlyResponse,
  prop200,
  propOf,
  responsesByHref,
  win32Proppatch,
} from './replayKit';
import { findAll, text } from '../support/xmlQuery';
import { parseXmlDocument } from '../../src/xml/parse';

/** What MiniRedir asks in its PROPFINDs (its Win32* extensions declared on DAV:prop). */
const EXPLORER_PROPFIND =
  '<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">' +
  '<D:resourcetype/><D:getcontentlength/><D:creationdate/><D:getlastmodified/><D:displayname/>' +
  '<Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/><Z:Win32FileAttributes/></D:prop></D:propfind>';

const XML = { 'Content-Type': 'text/xml; charset="utf-8"' };

describe('Windows Explorer (Microsoft-WebDAV-MiniRedir)', () => {
  let t: TestServer;
  let win: ReplayClient;

  beforeAll(async () => {
    t = await startTestServer();
    win = new ReplayClient(t, UA.explorer, { translate: 'f' });
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/existing.txt', { body: 'already here' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  test('OPTIONS / advertises class 2, MS-Author-Via: DAV, and LOCK, UNLOCK, PROPPATCH in Allow', async () => {
    const res = await win.send('OPTIONS', '/');
    expect(res.status).toBe(200);
    const classes = (hdr(res, 'dav') ?? '').split(',').map((s) => s.trim());
    expect(classes).toEqual(expect.arrayContaining(['1', '2']));
    expect(hdr(res, 'ms-author-via')).toBe('DAV');
    const allow = (hdr(res, 'allow') ?? '').split(',').map((s) => s.trim());
    expect(allow).toEqual(expect.arrayContaining(['LOCK', 'UNLOCK', 'PROPPATCH', 'PUT', 'MOVE', 'MKCOL', 'PROPFIND']));
  });

  test('PROPFIND /dir (no trailing slash) Depth 1: 207, the collection answered as /dir/ and its members below it', async () => {
    const res = await win.send('PROPFIND', '/dir', { ...XML, Depth: '1' }, EXPLORER_PROPFIND);
    expect(res.status).toBe(207);
    const byHref = responsesByHref(res.xml());
    expect([...byHref.keys()].sort()).toEqual(['/dir/', '/dir/existing.txt']);
    const dir = byHref.get('/dir/')!;
    expect(findAll(propOf(dir, DAV, 'resourcetype')!.el, DAV, 'collection')).toHaveLength(1);
    expect(prop200(byHref.get('/dir/existing.txt')!, DAV, 'getcontentlength')).toBe('12');
    // Win32* never set on this file: 404 inside the 207, not an error for the whole request.
    expect(propOf(byHref.get('/dir/existing.txt')!, MS, 'Win32FileAttributes')?.status).toBe(404);
  });

  test('PROPFIND /dir Depth 1 with no body (allprop, as MiniRedir sends on first contact): 207 with getlastmodified and resourcetype', async () => {
    const res = await win.send('PROPFIND', '/dir', { Depth: '1', 'Content-Length': 0 });
    expect(res.status).toBe(207);
    const byHref = responsesByHref(res.xml());
    expect(byHref.has('/dir/')).toBe(true);
    const file = byHref.get('/dir/existing.txt')!;
    expect(prop200(file, DAV, 'getlastmodified')).toMatch(/GMT$/);
    expect(prop200(file, DAV, 'getcontentlength')).toBe('12');
    expect(propOf(file, DAV, 'resourcetype')?.status).toBe(200);
  });

  describe('copy-in and save of /dir/new.txt under an exclusive lock', () => {
    const content = bytesOf(5000);
    const created = 'Thu, 05 Sep 2024 10:00:00 GMT';
    const oldModified = 'Mon, 01 Jan 2018 08:30:00 GMT';
    let token = '';

    test('1. PROPFIND of the not yet existing file: 404', async () => {
      const res = await win.send('PROPFIND', '/dir/new.txt', { ...XML, Depth: '0' }, EXPLORER_PROPFIND);
      expect(res.status).toBe(404);
    });

    test('2. the 0-byte placeholder PUT: 201 and an empty file on disk', async () => {
      const res = await win.send('PUT', '/dir/new.txt', { 'Content-Length': 0 });
      expect(res.status).toBe(201);
      expect(hdr(res, 'etag')).toMatch(/^"[^"]+"$/);
      expect(await disk(t).size('dir/new.txt')).toBe(0);
    });

    test('3. LOCK without Depth, Timeout: Second-3600: 200, Lock-Token, exclusive write lock for 3600 s', async () => {
      const res = await win.send('LOCK', '/dir/new.txt', { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('WIN10\\alice'));
      expect(res.status).toBe(200);
      token = lockToken(res);
      const locks = activeLocksIn(res.xml());
      expect(locks).toHaveLength(1);
      const facts = lockFacts(locks[0]);
      expect(facts).toMatchObject({ token, scope: 'exclusive', timeout: 'Second-3600', lockroot: '/dir/new.txt' });
      expect(text(facts.owner!, DAV, 'href')).toBe('WIN10\\alice');
    });

    test('4. PROPPATCH of the four Win32* properties with If: (<T>): 207, every property 200', async () => {
      const res = await win.send(
        'PROPPATCH',
        '/dir/new.txt',
        { ...XML, If: `(<${token}>)` },
        win32Proppatch({
          Win32CreationTime: created,
          Win32LastAccessTime: 'Thu, 05 Sep 2024 10:05:00 GMT',
          Win32LastModifiedTime: 'Thu, 05 Sep 2024 10:04:00 GMT',
          Win32FileAttributes: '00000020',
        }),
      );
      expect(res.status).toBe(207);
      const response = onlyResponse(res);
      for (const name of ['Win32CreationTime', 'Win32LastAccessTime', 'Win32LastModifiedTime', 'Win32FileAttributes']) {
        expect({ name, status: propOf(response, MS, name)?.status }).toEqual({ name, status: 200 });
      }
    });

    test('5. HEAD: 200', async () => {
      const res = await win.send('HEAD', '/dir/new.txt');
      expect(res.status).toBe(200);
      expect(hdr(res, 'content-length')).toBe('0');
    });

    test('6. PUT of the content with If: (<T>): 204 (the placeholder is filled, no stale-version refusal); the bytes on disk', async () => {
      const res = await win.send('PUT', '/dir/new.txt', { If: `(<${token}>)`, 'Content-Length': content.length }, content);
      expect({ status: res.status, body: res.text }).toEqual({ status: 204, body: '' });
      expect(hdr(res, 'etag')).toMatch(/^"[^"]+"$/);
      expect((await disk(t).bytes('dir/new.txt')).equals(content)).toBe(true);
    });

    test('7. PROPPATCH Win32LastModifiedTime to an old date (with the attributes): 207; getlastmodified and the disk show it; ETag unchanged', async () => {
      const before = await win.send('HEAD', '/dir/new.txt');
      const res = await win.send(
        'PROPPATCH',
        '/dir/new.txt',
        { ...XML, If: `(<${token}>)` },
        win32Proppatch({ Win32LastModifiedTime: oldModified, Win32FileAttributes: '00000020' }),
      );
      expect(res.status).toBe(207);
      const response = onlyResponse(res);
      expect(propOf(response, MS, 'Win32LastModifiedTime')?.status).toBe(200);
      expect(propOf(response, MS, 'Win32FileAttributes')?.status).toBe(200);

      const found = onlyResponse(await win.send('PROPFIND', '/dir/new.txt', { ...XML, Depth: '0' }, EXPLORER_PROPFIND));
      expect(prop200(found, DAV, 'getlastmodified')).toBe(oldModified);
      expect(prop200(found, MS, 'Win32LastModifiedTime')).toBe(oldModified);
      expect(prop200(found, MS, 'Win32CreationTime')).toBe(created);
      expect(prop200(found, MS, 'Win32FileAttributes')).toBe('00000020');
      expect(prop200(found, DAV, 'getcontentlength')).toBe(String(content.length));
      expect(await disk(t).mtimeMs('dir/new.txt')).toBe(Date.parse(oldModified));
      // Only the modification time changed: the version (ETag) stays (semantics.md "Versions").
      const after = await win.send('HEAD', '/dir/new.txt');
      expect(hdr(after, 'etag')).toBe(hdr(before, 'etag'));
      expect(hdr(after, 'last-modified')).toBe(oldModified);
    });

    test('8. UNLOCK with the token as a bare URI (no <>), as MiniRedir sends it: 204, the lock is gone', async () => {
      const res = await win.send('UNLOCK', '/dir/new.txt', { 'Lock-Token': token });
      expect(res.status).toBe(204);
      expect(await discoverLocks(win, '/dir/new.txt')).toEqual([]);
      // Without the lock, a plain write by anyone works again.
      expect((await t.request('PUT', '/dir/new.txt', { body: 'after unlock' })).status).toBe(204);
      expect(await disk(t).text('dir/new.txt')).toBe('after unlock');
    });
  });

  test('PROPPATCH with a Win32LastModifiedTime that is no date: 207, 409 invalid-property-value for it, 424 for the rest; nothing stored', async () => {
    expect((await win.send('PUT', '/dir/bad.txt', { 'Content-Length': 1 }, 'b')).status).toBe(201);
    const before = await disk(t).mtimeMs('dir/bad.txt');
    const res = await win.send('PROPPATCH', '/dir/bad.txt', XML, win32Proppatch({ Win32LastModifiedTime: 'not a date', Win32FileAttributes: '00000020' }));
    expect(res.status).toBe(207);
    const response = onlyResponse(res);
    expect(propOf(response, MS, 'Win32LastModifiedTime')?.status).toBe(409);
    expect(propOf(response, MS, 'Win32FileAttributes')?.status).toBe(424);
    expect(findAll(response, KEEPDAV, 'invalid-property-value')).toHaveLength(1);
    expect(await disk(t).mtimeMs('dir/bad.txt')).toBe(before);
    const found = onlyResponse(await win.send('PROPFIND', '/dir/bad.txt', { ...XML, Depth: '0' }, EXPLORER_PROPFIND));
    expect(propOf(found, MS, 'Win32FileAttributes')?.status).toBe(404);
  });

  test('UNLOCK with a bare opaquelocktoken: URI that names no lock here: 409 lock-token-matches-request-uri (not 400)', async () => {
    const res = await win.send('UNLOCK', '/dir/existing.txt', { 'Lock-Token': 'opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4' });
    expectConflict(res, 409, 'lock-token-matches-request-uri', { element: 'lock-token-matches-request-uri' });
  });

  describe('rename (MOVE with Overwrite: F)', () => {
    beforeAll(async () => {
      expect((await t.request('PUT', '/dir/a.txt', { body: 'A' })).status).toBe(201);
      expect((await t.request('PUT', '/dir/b.txt', { body: 'B' })).status).toBe(201);
    });

    test('onto an existing name: a plain 412 destination-exists (not a 207), both files untouched', async () => {
      const res = await win.send('MOVE', '/dir/a.txt', { Destination: win.url('/dir/b.txt'), Overwrite: 'F' });
      expect(res.status).toBe(412);
      expect(hdr(res, 'content-type')).toMatch(/xml/);
      expect(parseXmlDocument(res.body).local).not.toBe('multistatus');
      expectConflict(res, 412, 'destination-exists');
      expect(await disk(t).text('dir/a.txt')).toBe('A');
      expect(await disk(t).text('dir/b.txt')).toBe('B');
    });

    test('onto a free name: 201 (not 207), the file moved with its Win32 properties', async () => {
      const patched = await win.send('PROPPATCH', '/dir/a.txt', XML, win32Proppatch({ Win32FileAttributes: '00000021' }));
      expect(patched.status).toBe(207);
      const res = await win.send('MOVE', '/dir/a.txt', { Destination: win.url('/dir/renamed.txt'), Overwrite: 'F' });
      expect(res.status).toBe(201);
      expect(await disk(t).exists('dir/a.txt')).toBe(false);
      expect(await disk(t).text('dir/renamed.txt')).toBe('A');
      const found = onlyResponse(await win.send('PROPFIND', '/dir/renamed.txt', { ...XML, Depth: '0' }, EXPLORER_PROPFIND));
      expect(prop200(found, MS, 'Win32FileAttributes')).toBe('00000021');
    });

    test('with Overwrite: T onto an existing name (after the user confirmed): 204, the target replaced', async () => {
      const res = await win.send('MOVE', '/dir/renamed.txt', { Destination: win.url('/dir/b.txt'), Overwrite: 'T' });
      expect(res.status).toBe(204);
      expect(await disk(t).text('dir/b.txt')).toBe('A');
      expect(await disk(t).exists('dir/renamed.txt')).toBe(false);
    });
  });

  test('"New folder": MKCOL /dir/New%20folder (no slash): 201, then MOVE to the chosen name: 201', async () => {
    const made = await win.send('MKCOL', '/dir/New%20folder');
    expect(made.status).toBe(201);
    expect(await disk(t).isDir('dir/New folder')).toBe(true);

    const listed = responsesByHref((await win.send('PROPFIND', '/dir', { ...XML, Depth: '1' }, davPropfind('resourcetype'))).xml());
    expect(listed.has('/dir/New folder/')).toBe(true);

    const moved = await win.send('MOVE', '/dir/New%20folder', { Destination: win.url('/dir/Quarterly%20reports'), Overwrite: 'F' });
    expect(moved.status).toBe(201);
    expect(await disk(t).isDir('dir/Quarterly reports')).toBe(true);
    expect(await disk(t).exists('dir/New folder')).toBe(false);
  });
});
