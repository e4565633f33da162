/**
 * PROPFIND through the listing cache (src/storage/listingCache.ts): a repeated listing is served
 * from what was kept, and whatever changed between two listings shows in the second at once,
 * whether a client changed it through the server (PUT over, DELETE, MOVE in, MKCOL, PROPPATCH) or
 * another program changed the disk behind the server's back. Outside CI a missing native helper
 * is said loudly and skipped; in CI it must be there.
 */
import { join } from 'node:path';
import { appendFile, mkdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { startTestServer, type TestServer } from '../support/testServer';
import { processListingCache } from '../../src/storage/listingCache';
import { DIRECTORY_WATCH_BINARY } from '../../src/storage/directoryWatch';
import { itWhenInstalled } from '../support/realClientKit';
import { loadServeSettings } from '../../src/settings/loadSettings';
import { resolveConfig } from '../../src/config';

const itWhenBuilt = itWhenInstalled('the native directory watch helper (build/Release/directory_watch.node)', existsSync(DIRECTORY_WATCH_BINARY), 'npm install builds it: needs python3, make and a C compiler');

const BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop>' +
  '<D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/><X:color/></D:prop></D:propfind>';

interface Shown {
  etag?: string;
  length?: string;
  modified?: string;
  color?: string;
}

describe('PROPFIND of a kept listing', () => {
  let t: TestServer;

  beforeEach(async () => {
    t = await startTestServer();
    expect((await t.request('MKCOL', '/k/')).status).toBe(201);
    expect((await t.request('MKCOL', '/k/sub/')).status).toBe(201);
    for (let i = 0; i < 40; i++) expect((await t.request('PUT', `/k/f${i}.txt`, { body: 'x'.repeat(i) })).status).toBe(201);
  });
  afterEach(() => t.close());

  /** Each member of /k/ as the listing shows it, by href. */
  async function listing(): Promise<Map<string, Shown>> {
    const res = await t.request('PROPFIND', '/k/', { headers: { Depth: '1', 'Content-Type': 'application/xml' }, body: BODY });
    expect(res.status).toBe(207);
    const shown = new Map<string, Shown>();
    for (const response of res.text.match(/<D:response[ >].*?<\/D:response>/gs) ?? []) {
      const found = response.match(/<D:propstat><D:prop>(.*?)<\/D:prop><D:status>HTTP\/1.1 200 OK/s)?.[1] ?? '';
      const value = (pattern: RegExp) => found.match(pattern)?.[1];
      shown.set(response.match(/<D:href>(.*?)<\/D:href>/)![1], {
        etag: value(/<D:getetag>(.*?)<\/D:getetag>/)?.replace(/&quot;/g, '"'),
        length: value(/<D:getcontentlength>(.*?)<\/D:getcontentlength>/),
        modified: value(/<D:getlastmodified>(.*?)<\/D:getlastmodified>/),
        color: value(/<ns\d+:color[^>]*>(.*?)<\/ns\d+:color>/),
      });
    }
    return shown;
  }

  /** The listing, read twice: the second time it must come from the cache. */
  async function keptListing(): Promise<Map<string, Shown>> {
    await listing();
    const served = processListingCache()!.counts.served;
    const shown = await listing();
    expect(processListingCache()!.counts.served).toBeGreaterThan(served);
    return shown;
  }

  itWhenBuilt('shows what clients changed through the server at once', async () => {
    expect((await keptListing()).size).toBe(42);
    const put = await t.request('PUT', '/k/f3.txt', { body: 'rewritten, longer' });
    expect(put.status).toBe(204);
    let shown = await listing();
    expect(shown.get('/k/f3.txt')).toMatchObject({ etag: put.headers.etag, length: String('rewritten, longer'.length) });

    await keptListing();
    expect((await t.request('DELETE', '/k/f4.txt')).status).toBe(204);
    expect((await t.request('PUT', '/elsewhere.txt', { body: 'moved in' })).status).toBe(201);
    expect((await t.request('MOVE', '/elsewhere.txt', { headers: { Destination: `${t.url}/k/moved.txt` } })).status).toBe(201);
    expect((await t.request('MKCOL', '/k/new/')).status).toBe(201);
    shown = await listing();
    expect(shown.has('/k/f4.txt')).toBe(false);
    expect(shown.get('/k/moved.txt')).toMatchObject({ length: '8' });
    expect(shown.has('/k/new/')).toBe(true);

    await keptListing();
    const proppatch = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><X:color>teal</X:color></D:prop></D:set></D:propertyupdate>`;
    expect((await t.request('PROPPATCH', '/k/f5.txt', { headers: { 'Content-Type': 'application/xml' }, body: proppatch })).status).toBe(207);
    expect((await listing()).get('/k/f5.txt')).toMatchObject({ color: 'teal' });
  });

  itWhenBuilt('shows what another program changed on disk between two listings at once', async () => {
    const before = await keptListing();
    await appendFile(join(t.root, 'k/f6.txt'), 'grown behind its back');
    await utimes(join(t.root, 'k/f7.txt'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
    await unlink(join(t.root, 'k/f8.txt'));
    await writeFile(join(t.root, 'k/made-on-disk.txt'), 'new');
    let shown = await listing();
    expect(shown.get('/k/f6.txt')?.length).toBe(String(6 + 'grown behind its back'.length));
    expect(shown.get('/k/f6.txt')?.etag).not.toBe(before.get('/k/f6.txt')?.etag);
    expect(shown.get('/k/f7.txt')?.modified).toBe('Sat, 03 Feb 2001 04:05:06 GMT');
    expect(shown.has('/k/f8.txt')).toBe(false);
    expect(shown.get('/k/made-on-disk.txt')?.length).toBe('3');

    // A subcollection's time changes with its members, which its parent's watch does not see.
    await utimes(join(t.root, 'k/sub'), new Date('2002-03-04T05:06:07Z'), new Date('2002-03-04T05:06:07Z'));
    expect((await keptListing()).get('/k/sub/')?.modified).toBe('Mon, 04 Mar 2002 05:06:07 GMT');
    await mkdir(join(t.root, 'k/sub/inner'));
    shown = await listing();
    expect(Math.abs(Date.parse(shown.get('/k/sub/')!.modified!) - Date.now())).toBeLessThan(5_000);
  });

  itWhenBuilt('with --no-listing-cache (KEEPDAV_NO_LISTING_CACHE, no-listing-cache: in the file), every listing reads the disk', async () => {
    expect(resolveConfig(loadServeSettings([], {})).keepListings).toBe(true);
    expect(resolveConfig(loadServeSettings(['--no-listing-cache'], {})).keepListings).toBe(false);
    expect(resolveConfig(loadServeSettings([], { KEEPDAV_NO_LISTING_CACHE: '1' })).keepListings).toBe(false);
    await t.restart({ keepListings: false });
    const counts = processListingCache()!.counts;
    const first = await listing();
    await appendFile(join(t.root, 'k/f9.txt'), 'grown');
    expect((await listing()).get('/k/f9.txt')?.length).toBe(String(9 + 5));
    expect(await listing()).toEqual(await listing());
    expect(first.size).toBe(42);
    expect(processListingCache()!.counts).toMatchObject({ served: counts.served, kept: counts.kept });
  });
});
