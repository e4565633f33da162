/**
 * WinSCP (neon) replayed (clients.md, "WinSCP"): upload then set the modification time with
 * PROPPATCH {DAV:}getlastmodified (an unpadded day), and the explicit user lock (Depth:
 * infinity, Timeout: Infinite) on a file and on a folder, with later requests carrying neon's
 * tagged If header, and a DELETE with a stale token.
 */
import { startTestServer, type TestServer } from '../support/testServer';
import {
  DAV,
  ReplayClient,
  UA,
  activeLocksIn,
  discoverLocks,
  disk,
  expectConflict,
  hdr,
  lockFacts,
  lockToken,
  neonLockinfo,
  onlyResponse,
  prop200,
  propOf,
} from './replayKit';

const NEON_XML = { 'Content-Type': 'application/xml' };
const GETLASTMODIFIED_PROPPATCH = (date: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>${date}</D:getlastmodified></D:prop></D:set></D:propertyupdate>\n`;
const PROPFIND = '<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n<getlastmodified xmlns="DAV:"/>\n<getetag xmlns="DAV:"/>\n</prop></propfind>\n';

describe('WinSCP (neon)', () => {
  let t: TestServer;
  let winscp: ReplayClient;
  const tagged = (path: string, token: string) => `<${winscp.url(path)}> (<${token}>)`;
  const explicitLock = (path: string) =>
    winscp.send('LOCK', path, { ...NEON_XML, Depth: 'infinity', Timeout: 'Infinite' }, neonLockinfo('martin'));

  beforeAll(async () => {
    t = await startTestServer();
    winscp = new ReplayClient(t, UA.winscp);
  });
  afterAll(async () => {
    await t.close();
  });

  test('PUT: 201; PROPPATCH getlastmodified "Fri, 5 Sep 2025 10:00:00 GMT": 207 200; the mtime on disk and in PROPFIND; ETag unchanged', async () => {
    const put = await winscp.send('PUT', '/report.txt', { 'Content-Type': 'text/plain' }, 'the report');
    expect(put.status).toBe(201);
    const etag = hdr(put, 'etag');

    const res = await winscp.send('PROPPATCH', '/report.txt', NEON_XML, GETLASTMODIFIED_PROPPATCH('Fri, 5 Sep 2025 10:00:00 GMT'));
    expect(res.status).toBe(207);
    const r = onlyResponse(res);
    expect(propOf(r, DAV, 'getlastmodified')?.status).toBe(200);
    expect(await disk(t).mtimeMs('report.txt')).toBe(Date.UTC(2025, 8, 5, 10, 0, 0));

    const found = onlyResponse(await winscp.send('PROPFIND', '/report.txt', { ...NEON_XML, Depth: '0' }, PROPFIND));
    expect(prop200(found, DAV, 'getlastmodified')).toBe('Fri, 05 Sep 2025 10:00:00 GMT');
    expect(prop200(found, DAV, 'getetag')).toBe(etag);
    expect(hdr(await winscp.send('HEAD', '/report.txt'), 'last-modified')).toBe('Fri, 05 Sep 2025 10:00:00 GMT');
  });

  test('PROPPATCH getlastmodified with a value that is no date: 207 with 409 inside, the mtime unchanged', async () => {
    expect((await winscp.send('PUT', '/bad-date.txt', {}, 'x')).status).toBe(201);
    const before = await disk(t).mtimeMs('bad-date.txt');
    const res = await winscp.send('PROPPATCH', '/bad-date.txt', NEON_XML, GETLASTMODIFIED_PROPPATCH('yesterday'));
    expect(res.status).toBe(207);
    expect(propOf(onlyResponse(res), DAV, 'getlastmodified')?.status).toBe(409);
    expect(await disk(t).mtimeMs('bad-date.txt')).toBe(before);
  });

  describe('explicit lock of a file (Depth: infinity, Timeout: Infinite)', () => {
    let token = '';

    test('LOCK: 200, granted the 7-day default ceiling; a file lock is reported with depth 0 (keepdav: Depth on a non-collection is 0)', async () => {
      expect((await winscp.send('PUT', '/locked.txt', {}, 'v1')).status).toBe(201);
      const res = await explicitLock('/locked.txt');
      expect(res.status).toBe(200);
      token = lockToken(res);
      const facts = lockFacts(activeLocksIn(res.xml())[0]);
      expect(facts).toMatchObject({ token, timeout: 'Second-604800', scope: 'exclusive', depth: '0' });
      expect((await discoverLocks(winscp, '/locked.txt')).map((l) => lockFacts(l).timeout)).toEqual(['Second-604800']);
    });

    test('later requests carry the tagged If: PUT 204, PROPPATCH 207; without it: 423', async () => {
      expect((await winscp.send('PUT', '/locked.txt', { If: tagged('/locked.txt', token) }, 'v2')).status).toBe(204);
      expect(await disk(t).text('locked.txt')).toBe('v2');
      const patched = await winscp.send('PROPPATCH', '/locked.txt', { ...NEON_XML, If: tagged('/locked.txt', token) }, GETLASTMODIFIED_PROPPATCH('Fri, 5 Sep 2025 10:00:00 GMT'));
      expect(patched.status).toBe(207);
      expect(propOf(onlyResponse(patched), DAV, 'getlastmodified')?.status).toBe(200);
      expectConflict(await t.request('PUT', '/locked.txt', { body: 'v3' }), 423, 'lock-token-submitted');
      expect(await disk(t).text('locked.txt')).toBe('v2');
    });

    test('UNLOCK: 204; then DELETE with the now stale token: 412 if-header-false, the file stays', async () => {
      expect((await winscp.send('UNLOCK', '/locked.txt', { 'Lock-Token': `<${token}>` })).status).toBe(204);
      const res = await winscp.send('DELETE', '/locked.txt', { If: tagged('/locked.txt', token) });
      expectConflict(res, 412, 'if-header-false');
      expect(await disk(t).text('locked.txt')).toBe('v2');
      expect((await winscp.send('DELETE', '/locked.txt')).status).toBe(204);
      expect(await disk(t).exists('locked.txt')).toBe(false);
    });
  });

  describe('explicit lock of a folder (Depth: infinity, Timeout: Infinite)', () => {
    let token = '';

    beforeAll(async () => {
      expect((await winscp.send('MKCOL', '/site/')).status).toBe(201);
      expect((await winscp.send('PUT', '/site/index.html', {}, '<html/>')).status).toBe(201);
    });

    test('LOCK /site/: 200, depth infinity, timeout Second-604800 (the ceiling), lockroot /site/', async () => {
      const res = await explicitLock('/site/');
      expect(res.status).toBe(200);
      token = lockToken(res);
      expect(lockFacts(activeLocksIn(res.xml())[0])).toMatchObject({ token, depth: 'infinity', timeout: 'Second-604800', lockroot: '/site/' });
      // Members show the inherited lock.
      const inherited = await discoverLocks(winscp, '/site/index.html');
      expect(inherited.map((l) => lockFacts(l))).toMatchObject([{ token, lockroot: '/site/', timeout: 'Second-604800' }]);
    });

    test('members are written with If tagged by the lock root (neon): 201 / 204; without it: 423 naming /site/', async () => {
      expect((await winscp.send('PUT', '/site/new.html', { If: tagged('/site/', token) }, 'n')).status).toBe(201);
      expect((await winscp.send('PUT', '/site/index.html', { If: tagged('/site/', token) }, '<html>2</html>')).status).toBe(204);
      expectConflict(await t.request('PUT', '/site/other.html', { body: 'o' }), 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: ['/site/'] });
      expect(await disk(t).exists('site/other.html')).toBe(false);
    });

    test('rename and copy inside the locked folder with the tagged If: 201; without it: 423, nothing moved', async () => {
      expectConflict(await t.request('MOVE', '/site/new.html', { headers: { Destination: winscp.url('/site/renamed.html') } }), 423, 'lock-token-submitted');
      expect(await disk(t).exists('site/new.html')).toBe(true);
      const moved = await winscp.send('MOVE', '/site/new.html', { Destination: winscp.url('/site/renamed.html'), Overwrite: 'F', If: tagged('/site/', token) });
      expect(moved.status).toBe(201);
      expect(await disk(t).text('site/renamed.html')).toBe('n');
      const copied = await winscp.send('COPY', '/site/renamed.html', { Destination: winscp.url('/site/new.html'), Overwrite: 'F', If: tagged('/site/', token) });
      expect(copied.status).toBe(201);
      expect(await disk(t).text('site/new.html')).toBe('n');
      // The folder lock still covers both names.
      expect((await discoverLocks(winscp, '/site/renamed.html')).map((l) => lockFacts(l).token)).toEqual([token]);
    });

    test("another user's LOCK of a member: 423 no-conflicting-lock naming the folder /site/", async () => {
      const other = new ReplayClient(t, 'WinSCP/6.3.3 neon/0.32.5 (colleague)');
      const res = await other.send('LOCK', '/site/index.html', { ...NEON_XML, Depth: '0', Timeout: 'Second-600' }, neonLockinfo('colleague'));
      expectConflict(res, 423, 'no-conflicting-lock', { element: 'no-conflicting-lock', hrefs: ['/site/'] });
    });

    test('DELETE of a member with a stale token: 412; the folder lock and the member stay', async () => {
      const res = await winscp.send('DELETE', '/site/new.html', { If: tagged('/site/', 'urn:uuid:0b6b2f7c-5d59-4f25-9a8e-3f1b2c4d5e6f') });
      expectConflict(res, 412, 'if-header-false');
      expect(await disk(t).text('site/new.html')).toBe('n');
      expect((await discoverLocks(winscp, '/site/')).map((l) => lockFacts(l).token)).toEqual([token]);
    });

    test('UNLOCK /site/: 204', async () => {
      expect((await winscp.send('UNLOCK', '/site/', { 'Lock-Token': `<${token}>` })).status).toBe(204);
      expect(await discoverLocks(winscp, '/site/index.html')).toEqual([]);
    });
  });

  test('with the opt-in { lockTimeout: { maxSeconds: Infinity } }, Timeout: Infinite is granted Infinite', async () => {
    const s = await startTestServer({ lockTimeout: { maxSeconds: Infinity } });
    try {
      const c = new ReplayClient(s, UA.winscp);
      expect((await c.send('PUT', '/f.txt', {}, 'x')).status).toBe(201);
      const res = await c.send('LOCK', '/f.txt', { ...NEON_XML, Depth: 'infinity', Timeout: 'Infinite' }, neonLockinfo('martin'));
      expect(res.status).toBe(200);
      expect(lockFacts(activeLocksIn(res.xml())[0]).timeout).toBe('Infinite');
    } finally {
      await s.close();
    }
  });
});
