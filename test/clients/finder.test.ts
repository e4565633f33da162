/**
 * macOS Finder (WebDAVFS) replayed (clients.md, "macOS Finder"): mount probes, quota in both
 * vocabularies, the burst of Spotlight/Time Machine probes, create-then-lock-then-fill with a
 * chunked body and X-Expected-Entity-Length, AppleDouble `._` files, refresh with `If:(<T>)`,
 * conditional and ranged GETs, MKCOL/MOVE/DELETE, and decomposed (NFD) names.
 */
import { request as httpRequest } from 'node:http';
import { startTestServer, type TestServer } from '../support/testServer';
import { parseXmlDocument } from '../../src/xml/parse';
import { text } from '../support/xmlQuery';
import {
  APPLE_PROPS,
  DAV,
  KEEPDAV,
  ReplayClient,
  UA,
  activeLocksIn,
  bytesOf,
  disk,
  discoverLocks,
  expectConflict,
  hdr,
  lockFacts,
  lockToken,
  onlyResponse,
  prop200,
  propOf,
  responsesByHref,
  sendChunked,
  sendRaw,
  split,
} from './replayKit';

/** Finder's Content-Type for XML bodies, quotes and all. */
const FINDER_XML = { 'Content-Type': 'text/xml; charset="utf-8"' };

const FINDER_LOCKINFO =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:lockinfo xmlns:D="DAV:">\n<D:lockscope><D:exclusive/></D:lockscope>\n' +
  '<D:locktype><D:write/></D:locktype>\n<D:owner>\n<D:href>http://www.apple.com/webdav_fs/</D:href>\n</D:owner>\n</D:lockinfo>\n';

const RFC4331_QUOTA =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:">\n<D:prop>\n<D:quota-available-bytes/>\n<D:quota-used-bytes/>\n</D:prop>\n</D:propfind>\n';

const APPLE_QUOTA =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:">\n<D:prop xmlns:A="http://www.apple.com/webdav_fs/props/">\n<A:quota/>\n<A:quotaused/>\n</D:prop>\n</D:propfind>\n';

const LISTING =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:">\n<D:prop xmlns:A="http://www.apple.com/webdav_fs/props/">\n' +
  '<D:getlastmodified/>\n<D:getcontentlength/>\n<D:creationdate/>\n<D:resourcetype/>\n<A:appledoubleheader/>\n</D:prop>\n</D:propfind>\n';

const PROBES = ['/._.', '/.DS_Store', '/Backups.backupdb', '/.metadata_never_index', '/mach_kernel', '/.Spotlight-V100'];

describe('macOS Finder (WebDAVFS)', () => {
  let t: TestServer;
  let finder: ReplayClient;

  beforeAll(async () => {
    t = await startTestServer();
    finder = new ReplayClient(t, UA.finder);
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('mounting', () => {
    test('OPTIONS /: 200 with DAV: 1, 2', async () => {
      const res = await finder.send('OPTIONS', '/');
      expect(res.status).toBe(200);
      expect((hdr(res, 'dav') ?? '').split(',').map((s) => s.trim())).toEqual(expect.arrayContaining(['1', '2']));
    });

    test('PROPFIND / Depth 0 for quota-available-bytes and quota-used-bytes: 207 with whole numbers', async () => {
      expect((await t.request('PUT', '/dir/used.bin', { body: bytesOf(10_000) })).status).toBe(201);
      const res = await finder.send('PROPFIND', '/', { ...FINDER_XML, Depth: '0' }, RFC4331_QUOTA);
      expect(res.status).toBe(207);
      const r = onlyResponse(res);
      const available = prop200(r, DAV, 'quota-available-bytes');
      const used = prop200(r, DAV, 'quota-used-bytes');
      expect(available).toMatch(/^\d+$/);
      expect(used).toMatch(/^\d+$/);
      expect(Number(used)).toBeGreaterThanOrEqual(10_000);
      expect(Number(available)).toBeGreaterThan(0);
    });

    test("PROPFIND / Depth 0 for Apple's quota and quotaused: 207 with whole numbers (512-byte blocks)", async () => {
      const res = await finder.send('PROPFIND', '/', { ...FINDER_XML, Depth: '0' }, APPLE_QUOTA);
      expect(res.status).toBe(207);
      const r = onlyResponse(res);
      const quota = prop200(r, APPLE_PROPS, 'quota');
      const quotaused = prop200(r, APPLE_PROPS, 'quotaused');
      expect(quota).toMatch(/^\d+$/);
      expect(quotaused).toMatch(/^\d+$/);
      expect(Number(quota)).toBeGreaterThanOrEqual(Number(quotaused));
      expect(Number(quotaused)).toBeGreaterThanOrEqual(Math.floor(10_000 / 512));
    });

    test('the burst of Depth-0 probes (._., .DS_Store, Backups.backupdb, ...): 404 each; 100 of them well under 3 s', async () => {
      for (const path of PROBES) {
        const res = await finder.send('PROPFIND', path, { ...FINDER_XML, Depth: '0' }, LISTING);
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        statuses.push((await finder.send('PROPFIND', PROBES[i % PROBES.length], { ...FINDER_XML, Depth: '0' }, LISTING)).status);
      }
      const elapsed = Date.now() - started;
      expect(statuses.every((s) => s === 404)).toBe(true);
      expect(elapsed).toBeLessThan(3000);
    });

    test('PROPFIND /dir/ Depth 1 with A:appledoubleheader: 207, the Apple property 404 inside, the others 200', async () => {
      const res = await finder.send('PROPFIND', '/dir/', { ...FINDER_XML, Depth: '1' }, LISTING);
      expect(res.status).toBe(207);
      const byHref = responsesByHref(res.xml());
      expect(byHref.has('/dir/')).toBe(true);
      const file = byHref.get('/dir/used.bin')!;
      expect(prop200(file, DAV, 'getcontentlength')).toBe('10000');
      expect(propOf(file, APPLE_PROPS, 'appledoubleheader')?.status).toBe(404);
      expect(prop200(file, DAV, 'getlastmodified')).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    });
  });

  describe('create, lock, fill (/dir/f)', () => {
    const content = bytesOf(70_000, 3);
    let token = '';

    test('PUT with no body: 201, an empty file', async () => {
      const res = await finder.send('PUT', '/dir/f', { 'Content-Length': 0 });
      expect(res.status).toBe(201);
      expect(await disk(t).size('dir/f')).toBe(0);
    });

    test('LOCK Depth 0, Timeout Second-600, Content-Type text/xml; charset="utf-8", Apple owner: 200 + token', async () => {
      const res = await finder.send('LOCK', '/dir/f', { ...FINDER_XML, Depth: '0', Timeout: 'Second-600' }, FINDER_LOCKINFO);
      expect(res.status).toBe(200);
      token = lockToken(res);
      const facts = lockFacts(activeLocksIn(res.xml())[0]);
      expect(facts).toMatchObject({ token, depth: '0', scope: 'exclusive', timeout: 'Second-600' });
      expect(facts.owner).toBeDefined();
    });

    test('chunked PUT with If: (<T>) and X-Expected-Entity-Length: N: 204, exactly N bytes on disk', async () => {
      const res = await sendChunked(
        t.port,
        'PUT',
        '/dir/f',
        { 'User-Agent': UA.finder, If: `(<${token}>)`, 'X-Expected-Entity-Length': content.length, 'Content-Type': 'application/octet-stream' },
        split(content, 9),
      );
      expect({ status: res.status, text: res.text }).toEqual({ status: 204, text: '' });
      expect(await disk(t).size('dir/f')).toBe(content.length);
      expect((await disk(t).bytes('dir/f')).equals(content)).toBe(true);
    });

    test('the Content-Length variant with If: (<T>): 204, the new bytes', async () => {
      const next = bytesOf(65_536, 4);
      const res = await finder.send('PUT', '/dir/f', { If: `(<${token}>)`, 'Content-Length': next.length }, next);
      expect(res.status).toBe(204);
      expect((await disk(t).bytes('dir/f')).equals(next)).toBe(true);
    });

    test('a chunked upload shorter than X-Expected-Entity-Length is refused and leaves the file byte-identical', async () => {
      const before = await disk(t).bytes('dir/f');
      const res = await sendChunked(
        t.port,
        'PUT',
        '/dir/f',
        { 'User-Agent': UA.finder, If: `(<${token}>)`, 'X-Expected-Entity-Length': 5000 },
        split(bytesOf(3000, 5), 3),
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect((await disk(t).bytes('dir/f')).equals(before)).toBe(true);
      expect((await disk(t).list('dir')).filter((n) => n.startsWith('.keepdav-'))).toEqual([]);
    });

    test('refresh: LOCK with If: (<T>), Timeout Second-600, text/xml and no body: 200, no Lock-Token', async () => {
      const res = await finder.send('LOCK', '/dir/f', { ...FINDER_XML, Timeout: 'Second-600', If: `(<${token}>)`, 'Content-Length': 0 });
      expect(res.status).toBe(200);
      expect(hdr(res, 'lock-token')).toBeUndefined();
      expect(lockFacts(activeLocksIn(res.xml())[0])).toMatchObject({ token, timeout: 'Second-600' });
    });

    test('refresh with the header line "If:(<T>)" (no space after the colon): 200', async () => {
      const res = await sendRaw(t, 'LOCK', '/dir/f', [
        `User-Agent: ${UA.finder}`,
        `If:(<${token}>)`,
        'Timeout: Second-600',
        'Content-Type: text/xml; charset="utf-8"',
      ]);
      expect(res.status).toBe(200);
      expect(res.headers['lock-token']).toBeUndefined();
      expect(lockFacts(activeLocksIn(parseXmlDocument(res.body))[0]).token).toBe(token);
    });

    test('a write without the token meanwhile: 423 (Finder shows EBUSY), not 409', async () => {
      const res = await t.request('PUT', '/dir/f', { body: 'intruder' });
      expectConflict(res, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: ['/dir/f'] });
    });

    test('UNLOCK with Lock-Token: <T>: 204, no lock left', async () => {
      const res = await finder.send('UNLOCK', '/dir/f', { 'Lock-Token': `<${token}>` });
      expect(res.status).toBe(204);
      expect(await discoverLocks(finder, '/dir/f')).toEqual([]);
    });
  });

  test('while a chunked upload is still streaming: GET serves the old bytes whole, the listing shows no temporary file', async () => {
    const old = bytesOf(1000, 12);
    expect((await t.request('PUT', '/dir/streaming.bin', { body: old })).status).toBe(201);
    const next = bytesOf(300_000, 13);
    let finish: () => void = () => undefined;
    const done = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: t.port, method: 'PUT', path: '/dir/streaming.bin', agent: false,
          headers: { 'User-Agent': UA.finder, 'Transfer-Encoding': 'chunked', 'X-Expected-Entity-Length': next.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(next.subarray(0, 100_000));
      finish = () => req.end(next.subarray(100_000));
    });
    await new Promise((r) => setTimeout(r, 150));
    const during = await finder.send('GET', '/dir/streaming.bin');
    expect(during.status).toBe(200);
    expect(during.body.equals(old)).toBe(true);
    const listing = await finder.send('PROPFIND', '/dir/', { ...FINDER_XML, Depth: '1' }, LISTING);
    expect([...responsesByHref(listing.xml()).keys()].filter((h) => h.includes('.keepdav-'))).toEqual([]);
    finish();
    expect(await done).toBe(204);
    expect((await disk(t).bytes('dir/streaming.bin')).equals(next)).toBe(true);
  });

  test('AppleDouble ._f: PUT, LOCK, chunked fill under the lock, UNLOCK', async () => {
    expect((await finder.send('PUT', '/dir/._g', { 'Content-Length': 0 })).status).toBe(201);
    const lock = await finder.send('LOCK', '/dir/._g', { ...FINDER_XML, Depth: '0', Timeout: 'Second-600' }, FINDER_LOCKINFO);
    expect(lock.status).toBe(200);
    const token = lockToken(lock);
    const header = bytesOf(4096, 6);
    const put = await sendChunked(t.port, 'PUT', '/dir/._g', { 'User-Agent': UA.finder, If: `(<${token}>)`, 'X-Expected-Entity-Length': 4096 }, split(header, 2));
    expect(put.status).toBe(204);
    expect((await disk(t).bytes('dir/._g')).equals(header)).toBe(true);
    expect((await finder.send('UNLOCK', '/dir/._g', { 'Lock-Token': `<${token}>` })).status).toBe(204);
    // An unmapped AppleDouble file locked first (LOCK before PUT) is created empty: 201.
    const fresh = await finder.send('LOCK', '/dir/._h', { ...FINDER_XML, Depth: '0', Timeout: 'Second-600' }, FINDER_LOCKINFO);
    expect(fresh.status).toBe(201);
    expect(await disk(t).size('dir/._h')).toBe(0);
  });

  describe('reads', () => {
    const content = bytesOf(20_000, 8);
    let lastModified = '';
    let etag = '';

    beforeAll(async () => {
      const res = await t.request('PUT', '/dir/read.bin', { body: content });
      expect(res.status).toBe(201);
      lastModified = hdr(res, 'last-modified')!;
      etag = hdr(res, 'etag')!;
    });

    test('GET with If-Modified-Since = Last-Modified: 304 with the ETag and no body', async () => {
      const res = await finder.send('GET', '/dir/read.bin', { 'If-Modified-Since': lastModified });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(hdr(res, 'etag')).toBe(etag);
    });

    test('GET Range: bytes=K- with If-Range: <Last-Modified>: 206, the tail', async () => {
      const k = 12_345;
      const res = await finder.send('GET', '/dir/read.bin', { Range: `bytes=${k}-`, 'If-Range': lastModified });
      expect(res.status).toBe(206);
      expect(hdr(res, 'content-range')).toBe(`bytes ${k}-${content.length - 1}/${content.length}`);
      expect(res.body.equals(content.subarray(k))).toBe(true);
    });

    test('GET Range with an If-Range date that is not the current one: 200, the whole file', async () => {
      const res = await finder.send('GET', '/dir/read.bin', { Range: 'bytes=100-', 'If-Range': 'Mon, 01 Jan 2018 00:00:00 GMT' });
      expect(res.status).toBe(200);
      expect(res.body.equals(content)).toBe(true);
    });
  });

  describe('folders, renames, deletes', () => {
    test('MKCOL /dir/new (no trailing slash): 201, a directory on disk', async () => {
      expect((await finder.send('MKCOL', '/dir/new')).status).toBe(201);
      expect(await disk(t).isDir('dir/new')).toBe(true);
    });

    test('MKCOL below a missing folder: 409 (Finder: ENOENT)', async () => {
      expectConflict(await finder.send('MKCOL', '/dir/missing/sub'), 409, 'parent-missing');
    });

    test('MOVE without an Overwrite header (means T): 201 onto a free name, 204 onto an existing one', async () => {
      expect((await t.request('PUT', '/dir/a', { body: 'A' })).status).toBe(201);
      expect((await finder.send('MOVE', '/dir/a', { Destination: finder.url('/dir/b') })).status).toBe(201);
      expect(await disk(t).text('dir/b')).toBe('A');
      expect((await t.request('PUT', '/dir/c', { body: 'C' })).status).toBe(201);
      expect((await finder.send('MOVE', '/dir/c', { Destination: finder.url('/dir/b') })).status).toBe(204);
      expect(await disk(t).text('dir/b')).toBe('C');
      expect(await disk(t).exists('dir/c')).toBe(false);
    });

    test('DELETE with If: (<T>) of a file Finder holds locked: 204, file and lock gone', async () => {
      expect((await finder.send('PUT', '/dir/doomed', { 'Content-Length': 0 })).status).toBe(201);
      const lock = await finder.send('LOCK', '/dir/doomed', { ...FINDER_XML, Depth: '0', Timeout: 'Second-600' }, FINDER_LOCKINFO);
      const token = lockToken(lock);
      expect((await t.request('DELETE', '/dir/doomed')).status).toBe(423);
      expect((await finder.send('DELETE', '/dir/doomed', { If: `(<${token}>)` })).status).toBe(204);
      expect(await disk(t).exists('dir/doomed')).toBe(false);
      // Recreating the name is not blocked by a lock that outlived its file.
      expect((await t.request('PUT', '/dir/doomed', { body: 'again' })).status).toBe(201);
    });
  });

  describe('decomposed (NFD) names, as macOS sends them', () => {
    const NFC = 'caf\u00e9'; // é precomposed: caf%C3%A9
    const NFD = 'cafe\u0301'; // e + combining acute: cafe%CC%81

    beforeAll(async () => {
      expect((await t.request('PUT', '/dir/caf%C3%A9', { body: 'precomposed' })).status).toBe(201);
    });

    test('GET and PROPFIND of the NFD name find the NFC file', async () => {
      const res = await finder.send('GET', '/dir/cafe%CC%81');
      expect(res.status).toBe(200);
      expect(res.text).toBe('precomposed');
      const found = await finder.send('PROPFIND', '/dir/cafe%CC%81', { ...FINDER_XML, Depth: '0' }, LISTING);
      expect(found.status).toBe(207);
      expect(prop200(onlyResponse(found), DAV, 'getcontentlength')).toBe('11');
    });

    test('Finder saves over a file Windows or Linux created: PUT of cafe%CC%81 while caf%C3%A9 exists is 204; the stored name stays NFC', async () => {
      const res = await finder.send('PUT', '/dir/cafe%CC%81', { 'Content-Length': 4 }, 'nfd!');
      expect(res.status).toBe(204);
      const names = await disk(t).list('dir');
      expect(names).toContain(NFC);
      expect(names).not.toContain(NFD);
      expect(await disk(t).text(`dir/${NFC}`)).toBe('nfd!');
    });

    test('MKCOL of an NFD folder name next to the NFC one: 405 already-exists (no second look-alike folder)', async () => {
      expect((await t.request('MKCOL', '/dir/r%C3%A9sum%C3%A9')).status).toBe(201);
      expectConflict(await finder.send('MKCOL', '/dir/re%CC%81sume%CC%81'), 405, 'already-exists');
      expect((await disk(t).list('dir')).filter((n) => n.normalize('NFC') === 'r\u00e9sum\u00e9')).toEqual(['r\u00e9sum\u00e9']);
    });
  });
});
