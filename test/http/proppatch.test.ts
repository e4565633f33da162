/**
 * PROPPATCH over HTTP (RFC 4918 §9.2): dead properties in any namespace, values kept exactly,
 * all-or-nothing with 403/424 and 409/424, document order, persistence across a restart, travel
 * with COPY and MOVE, and the modification-time channels of semantics.md ("Versions").
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, findAll, first, propstats } from '../support/xmlQuery';
import { parseXmlDocument } from '../../src/xml/parse';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';
import { XML_HEADERS, canonical, dest, foundProp, header, propertyUpdate, propfind, statusOf } from '../support/davHttpKit';

const A = 'http://example.com/ns/a';
const B = 'urn:example:b';
const MS = 'urn:schemas-microsoft-com:';
const SAR = 'SAR:';

/** Maps "{ns}local" -> status for the single response of a PROPPATCH 207. */
function statusByProp(ms: XmlElement): Map<string, number> {
  const out = new Map<string, number>();
  for (const ps of findAll(ms, DAV, 'propstat')) {
    const prop = first(ps, DAV, 'prop')!;
    for (const p of childElements(prop)) out.set(`{${p.ns}}${p.local}`, statusOf(ps));
  }
  return out;
}

/** The propstat holding property {ns}local. */
function propstatOf(ms: XmlElement, ns: string, local: string): XmlElement | undefined {
  return findAll(ms, DAV, 'propstat').find((ps) => childElements(first(ps, DAV, 'prop')!).some((p) => p.ns === ns && p.local === local));
}

describe('PROPPATCH', () => {
  let t: TestServer;

  const patch = (path: string, instructions: string, headers: Record<string, string> = {}): Promise<TestResponse> =>
    t.request('PROPPATCH', path, { headers: { ...XML_HEADERS, ...headers }, body: propertyUpdate(instructions) });
  const etagOf = async (path: string): Promise<string> => {
    const res = await t.request('HEAD', path);
    expect(res.status).toBe(200);
    return header(res, 'etag')!;
  };
  const lastModifiedProp = async (path: string): Promise<string> => {
    const res = await propfind(t, path, [[DAV, 'getlastmodified']]);
    expect(res.status).toBe(207);
    return textOf(foundProp(res.xml(), DAV, 'getlastmodified')!);
  };
  const diskMtime = async (rel: string): Promise<number> => (await stat(join(t.root, rel))).mtimeMs;

  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('PUT', '/p.txt', { body: 'props' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('set and remove', () => {
    test('properties in several namespaces, the empty namespace included, are set (207, all 200) and read back', async () => {
      const res = await patch(
        '/p.txt',
        `<D:set><D:prop>
           <A:alpha xmlns:A="${A}">one</A:alpha>
           <B:beta xmlns:B="${B}">two</B:beta>
           <plain xmlns="">three</plain>
           <A:alpha2 xmlns:A="${B}">same prefix, other namespace</A:alpha2>
         </D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      const ms = res.xml();
      expect(findAll(ms, DAV, 'response')).toHaveLength(1);
      const statuses = statusByProp(ms);
      expect([...statuses.entries()].sort()).toEqual(
        [[`{${A}}alpha`, 200], [`{${B}}beta`, 200], ['{}plain', 200], [`{${B}}alpha2`, 200]].sort(),
      );

      const got = await propfind(t, '/p.txt', [[A, 'alpha'], [B, 'beta'], ['', 'plain'], [B, 'alpha2'], [A, 'alpha2'], [A, 'beta']]);
      expect(got.status).toBe(207);
      const gms = got.xml();
      expect(textOf(foundProp(gms, A, 'alpha')!)).toBe('one');
      expect(textOf(foundProp(gms, B, 'beta')!)).toBe('two');
      expect(textOf(foundProp(gms, '', 'plain')!)).toBe('three');
      expect(textOf(foundProp(gms, B, 'alpha2')!)).toBe('same prefix, other namespace');
      // Same local names in the wrong namespace are different properties: 404.
      const missing = propstats(gms).get('/p.txt')!.get(404)!;
      expect(missing.map((e) => `{${e.ns}}${e.local}`).sort()).toEqual([`{${A}}alpha2`, `{${A}}beta`].sort());
    });

    test('a value with U+1F600 comes back unchanged', async () => {
      const value = 'smile \u{1F600} and é and 中';
      const res = await patch('/p.txt', `<D:set><D:prop><A:emoji xmlns:A="${A}">${value}</A:emoji></D:prop></D:set>`);
      expect(res.status).toBe(207);
      expect(statusByProp(res.xml()).get(`{${A}}emoji`)).toBe(200);
      const got = await propfind(t, '/p.txt', [[A, 'emoji']]);
      expect(textOf(foundProp(got.xml(), A, 'emoji')!)).toBe(value);
    });

    test('a value holding its own namespaced XML comes back with the same names, namespaces, attributes and text', async () => {
      const propXml =
        `<A:complex xmlns:A="${A}" xmlns:X="urn:x:inner" A:kind="outer" plain="1">` +
        `lead <X:inner X:attr="v&amp;1" other="2">text &lt;escaped&gt;<X:leaf/></X:inner>` +
        `<child xmlns="urn:default:ns" note="default ns"><grand>g</grand></child>` +
        `<X:empty/> tail</A:complex>`;
      const res = await patch('/p.txt', `<D:set><D:prop>${propXml}</D:prop></D:set>`);
      expect(res.status).toBe(207);
      expect(statusByProp(res.xml()).get(`{${A}}complex`)).toBe(200);

      const got = await propfind(t, '/p.txt', [[A, 'complex']]);
      expect(got.status).toBe(207);
      const returned = foundProp(got.xml(), A, 'complex')!;
      const sent = parseXmlDocument(propXml);
      expect(canonical(returned)).toEqual(canonical(sent));
      // Spot checks that the canonical form saw what we meant.
      const inner = first(returned, 'urn:x:inner', 'inner')!;
      expect(inner.attributes).toEqual(expect.arrayContaining([{ ns: 'urn:x:inner', local: 'attr', value: 'v&1' }, { ns: '', local: 'other', value: '2' }]));
      expect(first(returned, 'urn:default:ns', 'grand')).toBeDefined();
    });

    test('remove deletes a property; removing one that does not exist is fine', async () => {
      const res = await patch('/p.txt', `<D:remove><D:prop><B:beta xmlns:B="${B}"/><B:never-set xmlns:B="${B}"/></D:prop></D:remove>`);
      expect(res.status).toBe(207);
      const statuses = statusByProp(res.xml());
      expect(statuses.get(`{${B}}beta`)).toBe(200);
      expect(statuses.get(`{${B}}never-set`)).toBe(200);
      const got = await propfind(t, '/p.txt', [[B, 'beta'], [A, 'alpha']]);
      expect(propstats(got.xml()).get('/p.txt')!.get(404)!.map((e) => e.local)).toEqual(['beta']);
      expect(textOf(foundProp(got.xml(), A, 'alpha')!)).toBe('one');
    });

    test('document order: set then remove of the same property in one request leaves it removed', async () => {
      const res = await patch(
        '/p.txt',
        `<D:set><D:prop><A:order xmlns:A="${A}">v</A:order></D:prop></D:set><D:remove><D:prop><A:order xmlns:A="${A}"/></D:prop></D:remove>`,
      );
      expect(res.status).toBe(207);
      for (const ps of findAll(res.xml(), DAV, 'propstat')) expect(statusOf(ps)).toBe(200);
      const got = await propfind(t, '/p.txt', [[A, 'order']]);
      expect(foundProp(got.xml(), A, 'order')).toBeUndefined();
      expect(propstats(got.xml()).get('/p.txt')!.get(404)!.map((e) => e.local)).toEqual(['order']);
    });

    test('document order: remove then set leaves it set, with the value of the last set', async () => {
      const res = await patch(
        '/p.txt',
        `<D:remove><D:prop><A:order2 xmlns:A="${A}"/></D:prop></D:remove>` +
          `<D:set><D:prop><A:order2 xmlns:A="${A}">first</A:order2></D:prop></D:set>` +
          `<D:set><D:prop><A:order2 xmlns:A="${A}">second</A:order2></D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      const got = await propfind(t, '/p.txt', [[A, 'order2']]);
      expect(textOf(foundProp(got.xml(), A, 'order2')!)).toBe('second');
    });

    test('PROPPATCH on a missing resource is 404', async () => {
      const res = await patch('/nope.txt', `<D:set><D:prop><A:x xmlns:A="${A}">1</A:x></D:prop></D:set>`);
      expect(res.status).toBe(404);
    });

    test('malformed XML is 400 and stores nothing', async () => {
      const res = await t.request('PROPPATCH', '/p.txt', {
        headers: XML_HEADERS,
        body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:broken xmlns:A="${A}">x</D:prop></D:set></D:propertyupdate>`,
      });
      expect(res.status).toBe(400);
      const got = await propfind(t, '/p.txt', [[A, 'broken']]);
      expect(foundProp(got.xml(), A, 'broken')).toBeUndefined();
    });
  });

  describe('all-or-nothing', () => {
    test.each(['getetag', 'resourcetype'])('a dead property with protected DAV:%s: 207, 403 + cannot-modify-protected-property, 424, nothing stored', async (protectedName) => {
      const etagBefore = await etagOf('/p.txt');
      const res = await patch(
        '/p.txt',
        `<D:set><D:prop><A:mixed-${protectedName} xmlns:A="${A}">should not stay</A:mixed-${protectedName}></D:prop></D:set>` +
          `<D:set><D:prop><D:${protectedName}>"forged"</D:${protectedName}></D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      const ms = res.xml();
      const statuses = statusByProp(ms);
      expect(statuses.get(`{DAV:}${protectedName}`)).toBe(403);
      expect(statuses.get(`{${A}}mixed-${protectedName}`)).toBe(424);
      const forbidden = propstatOf(ms, DAV, protectedName)!;
      expect(first(forbidden, DAV, 'cannot-modify-protected-property')).toBeDefined();

      const got = await propfind(t, '/p.txt', [[A, `mixed-${protectedName}`], [DAV, 'getetag'], [DAV, 'resourcetype']]);
      const gms = got.xml();
      expect(foundProp(gms, A, `mixed-${protectedName}`)).toBeUndefined();
      expect(textOf(foundProp(gms, DAV, 'getetag')!)).toBe(etagBefore);
      expect(childElements(foundProp(gms, DAV, 'resourcetype')!)).toEqual([]);
    });

    test('a failing PROPPATCH does not undo an earlier property either (a remove in it is not applied)', async () => {
      await patch('/p.txt', `<D:set><D:prop><A:keep xmlns:A="${A}">kept</A:keep></D:prop></D:set>`);
      const res = await patch('/p.txt', `<D:remove><D:prop><A:keep xmlns:A="${A}"/></D:prop></D:remove><D:set><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop></D:set>`);
      expect(res.status).toBe(207);
      expect(statusByProp(res.xml()).get(`{${A}}keep`)).toBe(424);
      expect(statusByProp(res.xml()).get('{DAV:}getcontentlength')).toBe(403);
      const got = await propfind(t, '/p.txt', [[A, 'keep']]);
      expect(textOf(foundProp(got.xml(), A, 'keep')!)).toBe('kept');
    });
  });

  test('removing the modification time (DAV:getlastmodified, rclone\'s DAV:lastmodified) is 403 cannot-modify-protected-property, and the time stays', async () => {
    const before = (await t.request('HEAD', '/p.txt')).headers['last-modified'];
    for (const local of ['getlastmodified', 'lastmodified']) {
      const res = await patch('/p.txt', `<D:remove><D:prop><D:${local}/></D:prop></D:remove>`);
      expect(res.status).toBe(207);
      expect(statusByProp(res.xml()).get(`{DAV:}${local}`)).toBe(403);
      expect(first(propstatOf(res.xml(), DAV, local)!, DAV, 'cannot-modify-protected-property')).toBeDefined();
    }
    expect((await t.request('HEAD', '/p.txt')).headers['last-modified']).toBe(before);
  });

  test('properties survive a restart', async () => {
    await patch('/p.txt', `<D:set><D:prop><A:durable xmlns:A="${A}">still here \u{1F600}</A:durable></D:prop></D:set>`);
    const etagBefore = await etagOf('/p.txt');
    await t.restart();
    expect(await etagOf('/p.txt')).toBe(etagBefore);
    const got = await propfind(t, '/p.txt', [[A, 'durable'], [A, 'alpha'], ['', 'plain']]);
    expect(got.status).toBe(207);
    expect(textOf(foundProp(got.xml(), A, 'durable')!)).toBe('still here \u{1F600}');
    expect(textOf(foundProp(got.xml(), A, 'alpha')!)).toBe('one');
    expect(textOf(foundProp(got.xml(), '', 'plain')!)).toBe('three');
  });

  describe('properties travel with COPY and MOVE', () => {
    beforeAll(async () => {
      expect((await t.request('MKCOL', '/tree/')).status).toBe(201);
      expect((await t.request('MKCOL', '/tree/sub/')).status).toBe(201);
      expect((await t.request('PUT', '/tree/sub/m.txt', { body: 'member' })).status).toBe(201);
      expect((await patch('/tree/', `<D:set><D:prop><A:coll xmlns:A="${A}">on the collection</A:coll></D:prop></D:set>`)).status).toBe(207);
      expect((await patch('/tree/sub/m.txt', `<D:set><D:prop><A:member xmlns:A="${A}">on the member</A:member></D:prop></D:set>`)).status).toBe(207);
    });

    test('COPY Depth infinity copies the properties of the tree and keeps the source\'s', async () => {
      const res = await t.request('COPY', '/tree/', { headers: { Destination: dest(t, '/copied/'), Depth: 'infinity' } });
      expect(res.status).toBe(201);
      expect((await stat(join(t.root, 'copied', 'sub', 'm.txt'))).isFile()).toBe(true);
      for (const root of ['/tree', '/copied']) {
        const member = await propfind(t, `${root}/sub/m.txt`, [[A, 'member']]);
        expect(textOf(foundProp(member.xml(), A, 'member')!)).toBe('on the member');
        const coll = await propfind(t, `${root}/`, [[A, 'coll']]);
        expect(textOf(foundProp(coll.xml(), A, 'coll')!)).toBe('on the collection');
      }
    });

    test('a single file COPY carries its properties', async () => {
      const res = await t.request('COPY', '/p.txt', { headers: { Destination: dest(t, '/p-copy.txt') } });
      expect(res.status).toBe(201);
      const got = await propfind(t, '/p-copy.txt', [[A, 'alpha'], [A, 'complex']]);
      expect(textOf(foundProp(got.xml(), A, 'alpha')!)).toBe('one');
      expect(foundProp(got.xml(), A, 'complex')).toBeDefined();
    });

    test('MOVE carries the properties and leaves none at the source', async () => {
      const res = await t.request('MOVE', '/copied/', { headers: { Destination: dest(t, '/moved/') } });
      expect(res.status).toBe(201);
      await expect(stat(join(t.root, 'copied'))).rejects.toMatchObject({ code: 'ENOENT' });
      const member = await propfind(t, '/moved/sub/m.txt', [[A, 'member']]);
      expect(textOf(foundProp(member.xml(), A, 'member')!)).toBe('on the member');
      const coll = await propfind(t, '/moved/', [[A, 'coll']]);
      expect(textOf(foundProp(coll.xml(), A, 'coll')!)).toBe('on the collection');

      // Recreate the old URLs: they must not inherit the moved properties.
      expect((await t.request('MKCOL', '/copied/')).status).toBe(201);
      expect((await t.request('MKCOL', '/copied/sub/')).status).toBe(201);
      expect((await t.request('PUT', '/copied/sub/m.txt', { body: 'new' })).status).toBe(201);
      const fresh = await propfind(t, '/copied/sub/m.txt', [[A, 'member']]);
      expect(foundProp(fresh.xml(), A, 'member')).toBeUndefined();
      const freshColl = await propfind(t, '/copied/', [[A, 'coll']]);
      expect(foundProp(freshColl.xml(), A, 'coll')).toBeUndefined();
    });

    test('a file MOVE carries its properties; the old URL has none afterwards', async () => {
      expect((await t.request('MOVE', '/p-copy.txt', { headers: { Destination: dest(t, '/p-moved.txt') } })).status).toBe(201);
      const got = await propfind(t, '/p-moved.txt', [[A, 'alpha']]);
      expect(textOf(foundProp(got.xml(), A, 'alpha')!)).toBe('one');
      expect((await t.request('PUT', '/p-copy.txt', { body: 'again' })).status).toBe(201);
      const old = await propfind(t, '/p-copy.txt', [[A, 'alpha']]);
      expect(foundProp(old.xml(), A, 'alpha')).toBeUndefined();
    });
  });

  describe('modification-time channels', () => {
    let seq = 0;
    const freshFile = async (): Promise<{ path: string; rel: string; etag: string }> => {
      seq += 1;
      const rel = `mtime-${seq}.txt`;
      const put = await t.request('PUT', `/${rel}`, { body: `content ${seq}`, headers: { 'X-OC-Mtime': '1500000000' } });
      expect(put.status).toBe(201);
      expect(await diskMtime(rel)).toBe(1500000000 * 1000);
      return { path: `/${rel}`, rel, etag: header(put, 'etag')! };
    };

    test('{DAV:}getlastmodified with an unpadded day sets the mtime on disk, not the ETag', async () => {
      const f = await freshFile();
      const res = await patch(f.path, '<D:set><D:prop><D:getlastmodified>Fri, 5 Sep 2025 10:00:00 GMT</D:getlastmodified></D:prop></D:set>');
      expect(res.status).toBe(207);
      const ms = res.xml();
      expect(findAll(ms, DAV, 'response')).toHaveLength(1);
      expect([...statusByProp(ms)]).toEqual([['{DAV:}getlastmodified', 200]]);
      expect(await diskMtime(f.rel)).toBe(Date.UTC(2025, 8, 5, 10, 0, 0));
      expect(await lastModifiedProp(f.path)).toBe('Fri, 05 Sep 2025 10:00:00 GMT');
      expect(await etagOf(f.path)).toBe(f.etag);
      const got = await propfind(t, f.path, [[DAV, 'getetag']]);
      expect(textOf(foundProp(got.xml(), DAV, 'getetag')!)).toBe(f.etag);
    });

    test('{DAV:}lastmodified (rclone, unix seconds): exactly one response, one 200 propstat; mtime set, ETag kept', async () => {
      const f = await freshFile();
      const res = await t.request('PROPPATCH', f.path, {
        headers: XML_HEADERS,
        body: '<?xml version="1.0" encoding="UTF-8"?>\n<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><lastmodified xmlns="DAV:">1600000000</lastmodified></d:prop></d:set></d:propertyupdate>',
      });
      expect(res.status).toBe(207);
      const ms = res.xml();
      const responses = findAll(ms, DAV, 'response');
      expect(responses).toHaveLength(1);
      const pss = findAll(responses[0], DAV, 'propstat');
      expect(pss).toHaveLength(1);
      expect(statusOf(pss[0])).toBe(200);
      expect(childElements(first(pss[0], DAV, 'prop')!).map((e) => `{${e.ns}}${e.local}`)).toEqual(['{DAV:}lastmodified']);
      expect(await diskMtime(f.rel)).toBe(1600000000 * 1000);
      expect(await lastModifiedProp(f.path)).toBe('Sun, 13 Sep 2020 12:26:40 GMT');
      expect(await etagOf(f.path)).toBe(f.etag);
    });

    test('{urn:schemas-microsoft-com:}Win32LastModifiedTime sets the mtime, keeps the ETag, and is returned by PROPFIND', async () => {
      const f = await freshFile();
      const value = 'Wed, 12 Jan 2022 08:30:00 GMT';
      const res = await patch(
        f.path,
        `<D:set><D:prop xmlns:Z="${MS}"><Z:Win32CreationTime>Tue, 11 Jan 2022 08:00:00 GMT</Z:Win32CreationTime><Z:Win32LastModifiedTime>${value}</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      const statuses = statusByProp(res.xml());
      expect([...statuses.values()]).toEqual([200, 200, 200]);
      expect(statuses.get(`{${MS}}Win32LastModifiedTime`)).toBe(200);
      expect(await diskMtime(f.rel)).toBe(Date.UTC(2022, 0, 12, 8, 30, 0));
      expect(await lastModifiedProp(f.path)).toBe(value);
      expect(await etagOf(f.path)).toBe(f.etag);
      const got = await propfind(t, f.path, [[MS, 'Win32LastModifiedTime'], [MS, 'Win32FileAttributes']]);
      expect(textOf(foundProp(got.xml(), MS, 'Win32LastModifiedTime')!)).toBe(value);
      expect(textOf(foundProp(got.xml(), MS, 'Win32FileAttributes')!)).toBe('00000020');
    });

    test('an unparsable Win32LastModifiedTime: 409 inside the 207, the others 424, nothing changed', async () => {
      const f = await freshFile();
      const res = await patch(
        f.path,
        `<D:set><D:prop xmlns:Z="${MS}"><Z:Win32LastModifiedTime>not a date</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000021</Z:Win32FileAttributes></D:prop></D:set>` +
          `<D:set><D:prop><A:side xmlns:A="${A}">x</A:side></D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      const statuses = statusByProp(res.xml());
      expect(statuses.get(`{${MS}}Win32LastModifiedTime`)).toBe(409);
      expect(statuses.get(`{${MS}}Win32FileAttributes`)).toBe(424);
      expect(statuses.get(`{${A}}side`)).toBe(424);
      expect(await diskMtime(f.rel)).toBe(1500000000 * 1000);
      expect(await etagOf(f.path)).toBe(f.etag);
      const got = await propfind(t, f.path, [[MS, 'Win32LastModifiedTime'], [MS, 'Win32FileAttributes'], [A, 'side']]);
      expect(propstats(got.xml()).get(f.path)!.get(404)!.map((e) => e.local).sort()).toEqual(['Win32FileAttributes', 'Win32LastModifiedTime', 'side']);
    });

    test('a time a file cannot keep (before 1970, after ext4\'s 2446-05-10) is 409 invalid-property-value on every channel, never stored as another time', async () => {
      for (const [element, value] of [
        ['<D:getlastmodified>Wed, 31 Dec 1969 23:59:59 GMT</D:getlastmodified>', '{DAV:}getlastmodified'],
        [`<Z:Win32LastModifiedTime xmlns:Z="${MS}">Sat, 01 Jan 1966 00:00:00 GMT</Z:Win32LastModifiedTime>`, `{${MS}}Win32LastModifiedTime`],
        ['<D:getlastmodified>Fri, 31 Dec 9999 23:59:59 GMT</D:getlastmodified>', '{DAV:}getlastmodified'],
        ['<D:lastmodified>999999999999</D:lastmodified>', '{DAV:}lastmodified'],
      ]) {
        const f = await freshFile();
        const res = await patch(f.path, `<D:set><D:prop>${element}</D:prop></D:set>`);
        expect(res.status).toBe(207);
        expect([...statusByProp(res.xml())]).toEqual([[value, 409]]);
        expect(res.text).toContain('invalid-property-value');
        expect(await diskMtime(f.rel)).toBe(1500000000 * 1000);
      }
      // The last second ext4 keeps is stored as it is.
      const f = await freshFile();
      expect([...statusByProp((await patch(f.path, '<D:set><D:prop><D:lastmodified>15032385535</D:lastmodified></D:prop></D:set>')).xml())]).toEqual([['{DAV:}lastmodified', 200]]);
      expect(await diskMtime(f.rel)).toBe(15032385535 * 1000);
    });

    test('a plain dead-property PROPPATCH ({SAR:}lastmodified, Cyberduck) changes neither ETag nor getlastmodified', async () => {
      const f = await freshFile();
      const before = await lastModifiedProp(f.path);
      expect(before).toBe('Fri, 14 Jul 2017 02:40:00 GMT');
      const res = await patch(
        f.path,
        `<D:set><D:prop xmlns:s="${SAR}"><s:lastmodified>Mon, 01 Jan 2024 00:00:00 GMT</s:lastmodified><s:lastmodified_server>${before}</s:lastmodified_server></D:prop></D:set>`,
      );
      expect(res.status).toBe(207);
      expect([...statusByProp(res.xml()).values()]).toEqual([200, 200]);
      expect(await lastModifiedProp(f.path)).toBe(before);
      expect(await diskMtime(f.rel)).toBe(1500000000 * 1000);
      expect(await etagOf(f.path)).toBe(f.etag);
      const got = await propfind(t, f.path, [[SAR, 'lastmodified'], [SAR, 'lastmodified_server']]);
      expect(textOf(foundProp(got.xml(), SAR, 'lastmodified')!)).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
      expect(textOf(foundProp(got.xml(), SAR, 'lastmodified_server')!)).toBe(before);
    });
  });
});
