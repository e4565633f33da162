/**
 * The plain-listing fast path of PROPFIND (src/methods/support/plainListing.ts) writes, for each
 * member, exactly the text the general path writes. The target's own response always takes the
 * general path, so a Depth 0 PROPFIND of a member is the reference for that member's response in
 * the Depth 1 listing of its parent.
 */
import { startTestServer, type TestServer } from '../support/testServer';

const XML = { 'Content-Type': 'application/xml; charset=utf-8' };

function propfindBody(names: string[], extra = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"${extra}><D:prop>${names.map((n) => `<${n}/>`).join('')}</D:prop></D:propfind>`;
}

/** The <D:response> elements of a multistatus, as text. */
function responses(body: string): string[] {
  return body.match(/<D:response>.*?<\/D:response>/gs) ?? [];
}

describe('PROPFIND plain listing', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('MKCOL', '/dir/sub/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/f.txt', { body: 'hello' })).status).toBe(201);
    expect((await t.request('PUT', encodeURI('/dir/a & <b> é.html'), { body: '<p/>' })).status).toBe(201);
    expect((await t.request('PUT', '/dir/empty.bin', { body: '' })).status).toBe(201);
  });
  afterAll(() => t.close());

  const cases: Array<[string, string[]]> = [
    ['the listing properties clients ask for', ['D:getcontentlength', 'D:getlastmodified', 'D:resourcetype', 'D:getetag']],
    ['every plain property', ['D:displayname', 'D:getcontenttype', 'D:creationdate', 'D:resourcetype', 'D:getcontentlength', 'D:getetag', 'D:getlastmodified']],
    ['only properties a collection lacks', ['D:getcontentlength', 'D:getetag']],
  ];
  test.each(cases)('%s: each member reads as its own Depth 0 answer', async (_, names) => {
    const listing = await t.request('PROPFIND', '/dir/', { headers: { ...XML, Depth: '1' }, body: propfindBody(names) });
    expect(listing.status).toBe(207);
    const members = responses(listing.text).slice(1);
    expect(members).toHaveLength(4);
    for (const member of members) {
      const href = /<D:href>(.*?)<\/D:href>/.exec(member)![1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
      const own = await t.request('PROPFIND', href, { headers: { ...XML, Depth: '0' }, body: propfindBody(names) });
      expect(own.status).toBe(207);
      expect(responses(own.text)).toEqual([member]);
    }
  });

  test('a member with a dead property, and a request for lockdiscovery, are answered in full', async () => {
    const set = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Shown name</D:displayname></D:prop></D:set></D:propertyupdate>';
    expect((await t.request('PROPPATCH', '/dir/f.txt', { headers: XML, body: set })).status).toBe(207);
    const listing = await t.request('PROPFIND', '/dir/', { headers: { ...XML, Depth: '1' }, body: propfindBody(['D:displayname', 'D:getcontentlength']) });
    expect(listing.text).toMatch(/<D:displayname[^>]*>Shown name<\/D:displayname>/);
    expect(listing.text).toContain('<D:displayname>empty.bin</D:displayname>');
    const locks = await t.request('PROPFIND', '/dir/', { headers: { ...XML, Depth: '1' }, body: propfindBody(['D:lockdiscovery']) });
    expect(responses(locks.text)).toHaveLength(5);
    expect(locks.text).toContain('<D:lockdiscovery/>');
  });
});
