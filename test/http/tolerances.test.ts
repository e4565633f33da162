/**
 * What real clients send that is sloppy but clear (README, "Tolerances"): each is accepted, and the
 * strict answer stays where the meaning is ambiguous (collections).
 */
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { DAV, findAll, first, text } from '../support/xmlQuery';

const XML = { 'Content-Type': 'application/xml; charset=utf-8' };
const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';

describe('tolerances for real clients', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('MKCOL', '/d/')).status).toBe(201);
    expect((await t.request('PUT', '/d/f.txt', { body: 'file' })).status).toBe(201);
  });
  afterAll(() => t.close());

  test('lftp: DELETE with Depth: 0 on a file is 204 (RFC 4918 §9.6.1 restricts Depth on collections only)', async () => {
    expect((await t.request('PUT', '/d/gone.txt', { body: 'x' })).status).toBe(201);
    expect((await t.request('DELETE', '/d/gone.txt', { headers: { Depth: '0' } })).status).toBe(204);
    await expect(stat(join(t.root, 'd', 'gone.txt'))).rejects.toThrow();
  });

  test('DELETE with Depth: 0 on a collection stays 400, and the collection stays', async () => {
    expect((await t.request('MKCOL', '/d/keep/')).status).toBe(201);
    const res = await t.request('DELETE', '/d/keep/', { headers: { Depth: '0' } });
    expect(res.status).toBe(400);
    expect((await stat(join(t.root, 'd', 'keep'))).isDirectory()).toBe(true);
  });

  test.each([
    ['no Depth header', {}],
    ['Depth: infinity', { Depth: 'infinity' }],
  ])('hdav: PROPFIND on a file with %s is 207 with that one file', async (_label, depth) => {
    const res = await t.request('PROPFIND', '/d/f.txt', { headers: { ...XML, ...depth }, body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' });
    expect(res.status).toBe(207);
    const responses = findAll(res.xml(), DAV, 'response');
    expect(responses.map((r) => text(r, DAV, 'href'))).toEqual(['/d/f.txt']);
    expect(text(responses[0], DAV, 'getcontentlength')).toBe('4');
  });

  test('PROPFIND with no Depth on a collection stays 403 propfind-finite-depth', async () => {
    const res = await t.request('PROPFIND', '/d/', { headers: XML, body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' });
    expect(res.status).toBe(403);
    expect(first(res.xml(), DAV, 'propfind-finite-depth')).toBeDefined();
  });

  test('nd: LOCK with `Timeout: 60` (not RFC syntax) is granted the default timeout (RFC 4918 §10.7)', async () => {
    expect((await t.request('PUT', '/d/nd.txt', { body: 'nd' })).status).toBe(201);
    const res = await t.request('LOCK', '/d/nd.txt', { headers: { ...XML, Timeout: '60' }, body: LOCKINFO });
    expect(res.status).toBe(200);
    expect(text(res.xml(), DAV, 'timeout')).toBe('Second-3600');
    const token = String(res.headers['lock-token']);
    expect((await t.request('UNLOCK', '/d/nd.txt', { headers: { 'Lock-Token': token } })).status).toBe(204);
  });

  test('hdav: an empty propertyupdate is 207 and changes nothing', async () => {
    const before = await stat(join(t.root, 'd', 'f.txt'));
    const res = await t.request('PROPPATCH', '/d/f.txt', { headers: XML, body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"/>' });
    expect(res.status).toBe(207);
    const response = first(res.xml(), DAV, 'response')!;
    expect(text(response, DAV, 'href')).toBe('/d/f.txt');
    expect(text(response, DAV, 'status')).toBe('HTTP/1.1 200 OK');
    expect((await stat(join(t.root, 'd', 'f.txt'))).mtimeMs).toBe(before.mtimeMs);
  });

  test('lftp: getlastmodified with a space-padded day sets the mtime', async () => {
    const body =
      '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>Mon,  2 Jan 2023 10:20:30 GMT</D:getlastmodified></D:prop></D:set></D:propertyupdate>';
    const res = await t.request('PROPPATCH', '/d/f.txt', { headers: XML, body });
    expect(res.status).toBe(207);
    expect(text(res.xml(), DAV, 'status')).toBe('HTTP/1.1 200 OK');
    expect((await stat(join(t.root, 'd', 'f.txt'))).mtimeMs).toBe(Date.UTC(2023, 0, 2, 10, 20, 30));
  });

  test("lftp: the HTML index's hrefs are percent-encoded (no entities), the names escaped", async () => {
    const name = "it's & <b>.txt";
    expect((await t.request('PUT', '/d/' + encodeURIComponent(name), { body: 'apostrophe' })).status).toBe(201);
    const html = (await t.request('GET', '/d/')).text;
    expect(html).toContain('href="/d/it%27s%20%26%20%3Cb%3E.txt"');
    expect(html).toContain('>it&#39;s &amp; &lt;b&gt;.txt</a>');
    const follow = await t.request('GET', '/d/it%27s%20%26%20%3Cb%3E.txt');
    expect(follow.text).toBe('apostrophe');
    expect(await readFile(join(t.root, 'd', name), 'utf8')).toBe('apostrophe');
  });
});
