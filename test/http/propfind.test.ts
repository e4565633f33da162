/**
 * PROPFIND over HTTP (RFC 4918 §9.1): allprop, propname, named properties, Depth 0/1/infinity,
 * hrefs, the live properties of §15 and RFC 4331, 404 propstats and malformed bodies.
 */
import * as http from 'node:http';
import { connect } from 'node:net';
import { openDescriptorsOn } from '../support/openDescriptors';
import { mkdir, stat, readdir, writeFile } from 'node:fs/promises';
import { StorageError } from '../../src/storage/storageErrors';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { DAV, findAll, first, propstats, text } from '../support/xmlQuery';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';
import { XML_HEADERS, activeLocks, activeLockToken, foundProp, header, lockPath, propertyUpdate, propfind, statusOf } from '../support/davHttpKit';

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CUSTOM_NS = 'http://example.com/ns/custom';
const ODD_NAME = 'a b é.txt';
const ODD_HREF = '/dir/a%20b%20%C3%A9.txt';

/** Names ({ns}local) of the properties in the 200 propstat of one response. */
function foundNames(ms: XmlElement, href: string): string[] {
  const byStatus = propstats(ms).get(href);
  if (!byStatus) throw new Error(`no response for ${href} in ${JSON.stringify([...propstats(ms).keys()])}`);
  return (byStatus.get(200) ?? []).map((e) => `{${e.ns}}${e.local}`).sort();
}

/** The hrefs of every DAV:response, in order. */
function hrefs(ms: XmlElement): string[] {
  return findAll(ms, DAV, 'response').map((r) => text(r, DAV, 'href') ?? '');
}

describe('PROPFIND', () => {
  let t: TestServer;
  const fileBody = 'hello propfind\n';

  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('MKCOL', '/dir/sub/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/f.txt', { body: fileBody })).status).toBe(201);
    expect((await t.request('PUT', encodeURI(`/dir/${ODD_NAME}`), { body: 'x' })).status).toBe(201);
    expect((await t.request('PUT', '/dir/sub/deep.txt', { body: 'deep' })).status).toBe(201);
    const pp = await t.request('PROPPATCH', '/dir/f.txt', {
      headers: XML_HEADERS,
      body: propertyUpdate(`<D:set><D:prop><C:color xmlns:C="${CUSTOM_NS}">blue</C:color></D:prop></D:set>`),
    });
    expect(pp.status).toBe(207);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('allprop and propname', () => {
    test('no body and <allprop/> give the same 207 with the RFC 4918 live properties and the dead ones', async () => {
      const none = await t.request('PROPFIND', '/dir/f.txt', { headers: { Depth: '0' } });
      const all = await t.request('PROPFIND', '/dir/f.txt', {
        headers: { ...XML_HEADERS, Depth: '0' },
        body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
      });
      expect(none.status).toBe(207);
      expect(all.status).toBe(207);
      expect(header(none, 'content-type')).toMatch(/^(application|text)\/xml/);
      const names = foundNames(none.xml(), '/dir/f.txt');
      expect(foundNames(all.xml(), '/dir/f.txt')).toEqual(names);
      for (const local of ['creationdate', 'displayname', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified', 'resourcetype', 'supportedlock', 'lockdiscovery']) {
        expect(names).toContain(`{DAV:}${local}`);
      }
      expect(names).toContain(`{${CUSTOM_NS}}color`);
      expect(textOf(foundProp(none.xml(), CUSTOM_NS, 'color')!)).toBe('blue');
      // RFC 4331 §3: quota properties are not part of allprop.
      expect(names).not.toContain('{DAV:}quota-available-bytes');
      expect(names).not.toContain('{DAV:}quota-used-bytes');
      // allprop has no 404 propstat.
      expect(propstats(none.xml()).get('/dir/f.txt')!.has(404)).toBe(false);
    });

    test('allprop on a collection has no getcontentlength and a collection resourcetype', async () => {
      const res = await t.request('PROPFIND', '/dir/', { headers: { Depth: '0' } });
      expect(res.status).toBe(207);
      const names = foundNames(res.xml(), '/dir/');
      expect(names).toContain('{DAV:}resourcetype');
      expect(names).not.toContain('{DAV:}getcontentlength');
      expect(first(foundProp(res.xml(), DAV, 'resourcetype')!, DAV, 'collection')).toBeDefined();
    });

    test('propname lists names only (empty elements), dead ones included', async () => {
      const res = await t.request('PROPFIND', '/dir/f.txt', {
        headers: { ...XML_HEADERS, Depth: '0' },
        body: '<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>',
      });
      expect(res.status).toBe(207);
      const ms = res.xml();
      const names = foundNames(ms, '/dir/f.txt');
      expect(names).toEqual(expect.arrayContaining(['{DAV:}getetag', '{DAV:}getlastmodified', '{DAV:}resourcetype', `{${CUSTOM_NS}}color`]));
      const props = propstats(ms).get('/dir/f.txt')!.get(200)!;
      for (const p of props) expect(p.children).toEqual([]);
    });
  });

  describe('named properties and the live property values', () => {
    let ms: XmlElement;
    let getRes: Awaited<ReturnType<TestServer['request']>>;

    beforeAll(async () => {
      getRes = await t.request('GET', '/dir/f.txt');
      const res = await propfind(t, '/dir/f.txt', [
        [DAV, 'creationdate'],
        [DAV, 'displayname'],
        [DAV, 'getcontentlength'],
        [DAV, 'getcontenttype'],
        [DAV, 'getetag'],
        [DAV, 'getlastmodified'],
        [DAV, 'resourcetype'],
        [DAV, 'supportedlock'],
        [DAV, 'lockdiscovery'],
        ['http://example.com/unknown', 'nothing-here'],
        [DAV, 'no-such-dav-prop'],
      ]);
      expect(res.status).toBe(207);
      ms = res.xml();
    });

    test('exactly one response, for the request URI', () => {
      expect(hrefs(ms)).toEqual(['/dir/f.txt']);
    });

    test('creationdate is RFC 3339', () => {
      expect(textOf(foundProp(ms, DAV, 'creationdate')!)).toMatch(RFC3339);
    });

    test('displayname is the name', () => {
      expect(textOf(foundProp(ms, DAV, 'displayname')!)).toBe('f.txt');
    });

    test('getcontentlength is the size on disk', async () => {
      const size = (await stat(join(t.root, 'dir', 'f.txt'))).size;
      expect(size).toBe(Buffer.byteLength(fileBody));
      expect(textOf(foundProp(ms, DAV, 'getcontentlength')!)).toBe(String(size));
    });

    test('getcontenttype is text/plain for .txt', () => {
      expect(textOf(foundProp(ms, DAV, 'getcontenttype')!)).toMatch(/^text\/plain\b/);
    });

    test('getetag equals the ETag header of GET', () => {
      expect(getRes.status).toBe(200);
      const etag = header(getRes, 'etag');
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(textOf(foundProp(ms, DAV, 'getetag')!)).toBe(etag);
    });

    test('getlastmodified is RFC 1123, equals Last-Modified of GET and the mtime on disk', async () => {
      const value = textOf(foundProp(ms, DAV, 'getlastmodified')!);
      expect(value).toMatch(RFC1123);
      expect(value).toBe(header(getRes, 'last-modified'));
      const mtime = (await stat(join(t.root, 'dir', 'f.txt'))).mtimeMs;
      expect(Date.parse(value)).toBe(Math.floor(mtime / 1000) * 1000);
    });

    test('resourcetype of a file is empty', () => {
      expect(childElements(foundProp(ms, DAV, 'resourcetype')!)).toEqual([]);
    });

    test('supportedlock lists exclusive and shared write locks', () => {
      const entries = findAll(foundProp(ms, DAV, 'supportedlock')!, DAV, 'lockentry');
      const scopes = entries.map((e) => childElements(first(e, DAV, 'lockscope')!).map((s) => s.local).join()).sort();
      expect(scopes).toEqual(['exclusive', 'shared']);
      for (const e of entries) expect(first(first(e, DAV, 'locktype')!, DAV, 'write')).toBeDefined();
    });

    test('lockdiscovery of an unlocked file is empty', () => {
      expect(childElements(foundProp(ms, DAV, 'lockdiscovery')!)).toEqual([]);
    });

    test('unknown properties come back in a 404 propstat, with no value', () => {
      const missing = propstats(ms).get('/dir/f.txt')!.get(404)!;
      expect(missing.map((e) => `{${e.ns}}${e.local}`).sort()).toEqual(['{DAV:}no-such-dav-prop', '{http://example.com/unknown}nothing-here']);
      for (const e of missing) expect(e.children).toEqual([]);
      const found = propstats(ms).get('/dir/f.txt')!.get(200)!;
      expect(found).toHaveLength(9);
    });
  });

  test('lockdiscovery shows an active lock with its token', async () => {
    await t.request('PUT', '/dir/locked.txt', { body: 'l' });
    const { token } = await lockPath(t, '/dir/locked.txt', { depth: '0', timeout: 'Second-600' });
    try {
      const res = await propfind(t, '/dir/locked.txt', [[DAV, 'lockdiscovery']]);
      expect(res.status).toBe(207);
      const locks = activeLocks(foundProp(res.xml(), DAV, 'lockdiscovery')!);
      expect(locks).toHaveLength(1);
      expect(activeLockToken(locks[0])).toBe(token);
    } finally {
      expect((await t.request('UNLOCK', '/dir/locked.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
    }
  });

  test('quota properties, when asked, are non-negative integers', async () => {
    const res = await propfind(t, '/', [[DAV, 'quota-available-bytes'], [DAV, 'quota-used-bytes']]);
    expect(res.status).toBe(207);
    const ms = res.xml();
    expect(hrefs(ms)).toEqual(['/']);
    const avail = textOf(foundProp(ms, DAV, 'quota-available-bytes')!);
    const used = textOf(foundProp(ms, DAV, 'quota-used-bytes')!);
    expect(avail).toMatch(/^\d+$/);
    expect(used).toMatch(/^\d+$/);
    expect(Number(used)).toBeGreaterThanOrEqual(Buffer.byteLength(fileBody));
  });

  test('a collection: resourcetype holds DAV:collection, getetag and getcontentlength are 404', async () => {
    const res = await propfind(t, '/dir/sub/', [[DAV, 'resourcetype'], [DAV, 'getcontentlength'], [DAV, 'displayname']]);
    expect(res.status).toBe(207);
    const ms = res.xml();
    expect(first(foundProp(ms, DAV, 'resourcetype')!, DAV, 'collection')).toBeDefined();
    expect(textOf(foundProp(ms, DAV, 'displayname')!)).toBe('sub');
    expect(propstats(ms).get('/dir/sub/')!.get(404)!.map((e) => e.local)).toEqual(['getcontentlength']);
  });

  describe('Depth', () => {
    test('Depth 0 on a collection answers only for it', async () => {
      const res = await propfind(t, '/dir/', [[DAV, 'resourcetype']], '0');
      expect(res.status).toBe(207);
      expect(hrefs(res.xml())).toEqual(['/dir/']);
    });

    test('Depth 1 lists the collection and every member once, collections ending in /, names percent-encoded', async () => {
      const onDisk = (await readdir(join(t.root, 'dir'))).sort();
      expect(onDisk).toEqual(['a b é.txt', 'f.txt', 'locked.txt', 'sub'].sort());
      const res = await propfind(t, '/dir/', [[DAV, 'resourcetype'], [DAV, 'displayname']], '1');
      expect(res.status).toBe(207);
      const ms = res.xml();
      const got = hrefs(ms);
      expect(got.slice().sort()).toEqual(['/dir/', ODD_HREF, '/dir/f.txt', '/dir/locked.txt', '/dir/sub/'].sort());
      expect(new Set(got).size).toBe(got.length);
      // deep.txt is two levels down: not listed.
      expect(got.some((h) => h.includes('deep'))).toBe(false);
      // Each collection href ends in "/" and has resourcetype collection; each file does not.
      for (const response of findAll(ms, DAV, 'response')) {
        const href = text(response, DAV, 'href')!;
        const isColl = first(foundProp(response, DAV, 'resourcetype')!, DAV, 'collection') !== undefined;
        expect(href.endsWith('/')).toBe(isColl);
      }
      // The odd name: the href is the percent-encoded UTF-8, the displayname the decoded name.
      const odd = findAll(ms, DAV, 'response').find((r) => text(r, DAV, 'href') === ODD_HREF)!;
      expect(textOf(foundProp(odd, DAV, 'displayname')!)).toBe(ODD_NAME);
      expect(decodeURIComponent(ODD_HREF)).toBe(`/dir/${ODD_NAME}`);
    });

    test('the encoded href is usable and names the same resource as Depth 0 reports', async () => {
      const res = await propfind(t, ODD_HREF, [[DAV, 'getcontentlength']], '0');
      expect(res.status).toBe(207);
      expect(hrefs(res.xml())).toEqual([ODD_HREF]);
      expect(textOf(foundProp(res.xml(), DAV, 'getcontentlength')!)).toBe('1');
    });

    test('a collection asked without a trailing slash is answered with one', async () => {
      const res = await propfind(t, '/dir', [[DAV, 'resourcetype']], '0');
      expect(res.status).toBe(207);
      expect(hrefs(res.xml())).toEqual(['/dir/']);
    });

    test.each([
      ['Depth: infinity', { Depth: 'infinity' }],
      ['no Depth header', {}],
    ])('%s is 403 with DAV:propfind-finite-depth', async (_label, depthHeader) => {
      const res = await t.request('PROPFIND', '/dir/', { headers: { ...XML_HEADERS, ...depthHeader }, body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' });
      expect(res.status).toBe(403);
      const root = res.xml();
      expect(root.ns).toBe(DAV);
      expect(root.local).toBe('error');
      expect(first(root, DAV, 'propfind-finite-depth')).toBeDefined();
    });

    test('PROPFIND of a missing resource is 404', async () => {
      const res = await propfind(t, '/dir/missing.txt', [[DAV, 'getetag']]);
      expect(res.status).toBe(404);
    });
  });

  describe('malformed bodies', () => {
    test.each([
      ['unclosed element', '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag></D:prop></D:propfind>'],
      ['not XML at all', 'this is not xml'],
      ['undeclared prefix', '<D:propfind xmlns:D="DAV:"><D:prop><X:foo/></D:prop></D:propfind>'],
    ])('%s is 400', async (_label, body) => {
      const res = await t.request('PROPFIND', '/dir/f.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body });
      expect(res.status).toBe(400);
    });
  });

  describe('with allowPropfindInfinity', () => {
    beforeAll(async () => {
      await t.restart({ allowPropfindInfinity: true });
    });
    afterAll(async () => {
      await t.restart({ allowPropfindInfinity: false });
    });

    test('Depth: infinity lists the whole tree', async () => {
      const res = await propfind(t, '/dir/', [[DAV, 'resourcetype']], 'infinity');
      expect(res.status).toBe(207);
      const got = hrefs(res.xml()).sort();
      expect(got).toEqual(['/dir/', ODD_HREF, '/dir/f.txt', '/dir/locked.txt', '/dir/sub/', '/dir/sub/deep.txt'].sort());
      for (const ps of findAll(res.xml(), DAV, 'propstat')) expect(statusOf(ps)).toBe(200);
    });

    test('no Depth header is infinity too', async () => {
      const res = await t.request('PROPFIND', '/dir/sub/', { headers: XML_HEADERS, body: '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>' });
      expect(res.status).toBe(207);
      expect(hrefs(res.xml()).sort()).toEqual(['/dir/sub/', '/dir/sub/deep.txt']);
    });
  });
});

describe('PROPFIND whose listing fails midway', () => {
  const ALLPROP = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await mkdir(join(t.root, 'big'));
    for (let i = 0; i < 600; i++) await writeFile(join(t.root, 'big', `f${i}`), '');
  });
  afterAll(() => t.close());

  it('is cut, never a complete 207 that leaves members out', async () => {
    const store = t.server.services.store;
    const real = store.listInBatches.bind(store);
    const spy = jest.spyOn(store, 'listInBatches').mockImplementation(async (path, size) => {
      const batches = await real(path, size);
      let served = 0;
      return {
        next: async () => {
          if (++served > 1) throw new StorageError(path, `${path}: could not be read further (test)`);
          return batches.next();
        },
        close: () => batches.close(),
      };
    });
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: t.port, method: 'PROPFIND', path: '/big/', headers: { Depth: '1', ...XML_HEADERS } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('error', () => resolve(`cut after ${res.statusCode}`));
          res.on('end', () => resolve(`complete ${res.statusCode}: ${body.includes('</D:multistatus>') || body.includes(':multistatus>') ? 'closed document' : 'open document'}`));
        });
        req.on('error', () => resolve('cut'));
        req.end(ALLPROP);
      });
      expect(outcome).toMatch(/^cut/);
      // And the server goes on answering.
      spy.mockRestore();
      expect((await t.request('PROPFIND', '/big/', { headers: { Depth: '1', ...XML_HEADERS }, body: ALLPROP })).status).toBe(207);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('a folder holding a long name that is not UTF-8', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await mkdir(join(t.root, 'legacy'));
    for (const name of ['a.txt', 'b.txt']) await writeFile(join(t.root, 'legacy', name), name);
    // 90 characters of Shift-JIS as a Latin-1 system wrote them: 180 bytes, 540 once each byte
    // that is not UTF-8 reads as U+FFFD. No URL can name it; it must not hide its neighbours.
    await writeFile(Buffer.concat([Buffer.from(join(t.root, 'legacy') + '/'), Buffer.alloc(180, 0x82)]), 'unreachable');
  });
  afterAll(() => t.close());

  it('PROPFIND Depth 1 and the HTML index list every other member, whole', async () => {
    const res = await t.request('PROPFIND', '/legacy/', { headers: { Depth: '1' } });
    expect(res.status).toBe(207);
    expect(findAll(res.xml(), DAV, 'href').map((href) => textOf(href)).sort()).toEqual(['/legacy/', '/legacy/a.txt', '/legacy/b.txt']);
    const index = await t.request('GET', '/legacy/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('a.txt');
    expect(index.text).toContain('b.txt');
    expect(index.text).toMatch(/<\/html>\s*$/);
  });
});

describe('a client that leaves in the middle of a listing', () => {
  let t: TestServer;
  // Enough that the answer (about 500 bytes a member with these long names, 8 MB) outgrows what
  // loopback's socket buffers take while the client reads nothing (4 MiB at most here).
  const MEMBERS = 16_000;
  const LONG = 'x'.repeat(200);
  beforeAll(async () => {
    t = await startTestServer();
    await mkdir(join(t.root, 'wide'));
    for (let i = 0; i < MEMBERS; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => writeFile(join(t.root, 'wide', `${LONG}-${i + k}.txt`), '')));
    }
  }, 60_000);
  afterAll(() => t.close());

  it('has the listing closed: no descriptor stays open on its folder, and the next listing is whole', async () => {
    const host = join(t.root, 'wide');
    const socket = connect(t.port, '127.0.0.1');
    socket.write(`PROPFIND /wide/ HTTP/1.1\r\nHost: localhost\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n`);
    socket.pause(); // read nothing more: the server's writes fill the socket, the listing waits
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(openDescriptorsOn(host)).toBe(1); // the listing holds its folder open meanwhile
    socket.destroy();
    for (let waited = 0; openDescriptorsOn(host) > 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(openDescriptorsOn(host)).toBe(0);
    const again = await t.request('PROPFIND', '/wide/', { headers: { Depth: '1' } });
    expect(again.status).toBe(207);
    expect(again.text.match(/<\/D:response>/g)).toHaveLength(MEMBERS + 1);
  });
});
