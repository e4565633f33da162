/**
 * --base-path /dav/: keepdav answers only under the prefix, and every href it writes (multistatus,
 * Location, lock roots, error bodies, the HTML index) carries it; Destination and If tags are read
 * with it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { XML_HEADERS, header, lockinfo, lockTokenOf } from '../support/davHttpKit';
import { listHrefs, conflictFields, codeOf } from '../support/conflictKit';
import { DAV_NS, childElements, type XmlElement } from '../../src/xml/tree';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ basePath: '/dav/' });
});
afterAll(() => t.close());

function hrefsIn(e: XmlElement): string[] {
  const own = e.ns === DAV_NS && e.local === 'href' ? [e.children.map((c) => ('text' in c ? c.text : '')).join('').trim()] : [];
  return [...own, ...childElements(e).flatMap(hrefsIn)];
}

describe('--base-path /dav/', () => {
  it('the URL names the base path', () => {
    expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dav\/$/);
  });

  it('answers 404 outside the prefix, and serves the prefix with or without "/" as the root', async () => {
    for (const path of ['/', '/other', '/davx/', '/da']) expect((await t.request('GET', path)).status).toBe(404);
    expect((await t.request('PROPFIND', '/', { headers: { Depth: '0' } })).status).toBe(404);
    expect(await listHrefs(t, '/dav')).toEqual(['/dav/']);
    expect(await listHrefs(t, '/dav/')).toEqual(['/dav/']);
  });

  it('MKCOL, PUT, multistatus and Location all carry the prefix; the disk does not', async () => {
    const mk = await t.request('MKCOL', '/dav/docs');
    expect(mk.status).toBe(201);
    expect(header(mk, 'location')).toBe('/dav/docs/');
    expect((await t.request('PUT', '/dav/docs/a%20b.txt', { body: 'hello' })).status).toBe(201);
    expect(await readFile(join(t.root, 'docs', 'a b.txt'), 'utf8')).toBe('hello');
    const listing = await t.request('PROPFIND', '/dav/docs/', { headers: { Depth: '1' } });
    expect(listing.status).toBe(207);
    expect(hrefsIn(listing.xml()).sort()).toEqual(['/dav/docs/', '/dav/docs/a%20b.txt']);
  });

  it('COPY and MOVE read the Destination with the prefix (absolute URI or path)', async () => {
    await t.request('MKCOL', '/dav/moves/');
    await t.request('PUT', '/dav/moves/src.txt', { body: 'bytes' });
    const copy = await t.request('COPY', '/dav/moves/src.txt', { headers: { Destination: `http://127.0.0.1:${t.port}/dav/moves/copy.txt` } });
    expect(copy.status).toBe(201);
    expect(header(copy, 'location')).toBe('/dav/moves/copy.txt');
    const move = await t.request('MOVE', '/dav/moves/copy.txt', { headers: { Destination: '/dav/moves/moved.txt' } });
    expect(move.status).toBe(201);
    expect(await readFile(join(t.root, 'moves', 'moved.txt'), 'utf8')).toBe('bytes');
    expect(existsSync(join(t.root, 'moves', 'copy.txt'))).toBe(false);
    // A Destination outside the prefix names nothing keepdav serves: refused, nothing moves.
    const outside = await t.request('MOVE', '/dav/moves/moved.txt', { headers: { Destination: `http://127.0.0.1:${t.port}/elsewhere/x.txt` } });
    expect(outside.status).toBe(400);
    expect(existsSync(join(t.root, 'moves', 'moved.txt'))).toBe(true);
    expect(existsSync(join(t.root, 'elsewhere'))).toBe(false);
  });

  it('lock roots, error bodies and If tags use the prefix', async () => {
    await t.request('MKCOL', '/dav/locked/');
    await t.request('PUT', '/dav/locked/f.txt', { body: 'v1' });
    const lock = await t.request('LOCK', '/dav/locked/', { headers: { ...XML_HEADERS, Depth: 'infinity' }, body: lockinfo('exclusive') });
    expect(lock.status).toBe(200);
    const token = lockTokenOf(lock);
    expect(hrefsIn(lock.xml())).toContain('/dav/locked/');
    const discovery = await t.request('PROPFIND', '/dav/locked/f.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' });
    expect(hrefsIn(discovery.xml())).toEqual(['/dav/locked/f.txt', token, '/dav/locked/']);
    const refused = await t.request('PUT', '/dav/locked/f.txt', { body: 'v2' });
    expect(refused.status).toBe(423);
    expect(codeOf(refused)).toBe('lock-token-submitted');
    expect(hrefsIn(refused.xml())).toContain('/dav/locked/');
    const tagged = await t.request('PUT', '/dav/locked/f.txt', { body: 'v3', headers: { If: `<http://127.0.0.1:${t.port}/dav/locked/> (<${token}>)` } });
    expect(tagged.status).toBe(204);
    expect(await readFile(join(t.root, 'locked', 'f.txt'), 'utf8')).toBe('v3');
    const missing = await t.request('PUT', '/dav/nowhere/x.txt', { body: 'x' });
    expect(missing.status).toBe(409);
    expect(conflictFields(missing).code).toBe('parent-missing');
    expect(missing.text).toContain('/dav/nowhere/');
  });

  it('the HTML index links under the prefix, with no "../" above the served root', async () => {
    await t.request('MKCOL', '/dav/html/');
    await t.request('PUT', '/dav/html/page.txt', { body: 'x' });
    const sub = await t.request('GET', '/dav/html/');
    expect(sub.text).toContain('href="/dav/html/page.txt"');
    expect(sub.text).toContain('<a href="/dav/">../</a>');
    // Asked for without its trailing slash, a folder's "../" still names its parent.
    await t.request('MKCOL', '/dav/html/inner/');
    expect((await t.request('GET', '/dav/html/inner')).text).toContain('<a href="/dav/html/">../</a>');
    const root = await t.request('GET', '/dav/');
    expect(root.text).toContain('href="/dav/html/"');
    expect(root.text).not.toContain('>../</a>');
  });
});
