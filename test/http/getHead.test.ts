/**
 * OPTIONS, GET and HEAD over a real server (RFC 9110 §9.3.1, §9.3.2, §9.3.7, §13, §14; RFC 4918
 * §10.1): compliance headers, validators (ETag = DAV:getetag, Last-Modified in IMF-fixdate),
 * byte ranges and If-Range, conditional GET, the HTML index of a collection.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { DAV, findAll, first, text } from '../support/xmlQuery';
import { rawRequest } from '../support/rawHttp';
import { openDescriptorsOn } from '../support/openDescriptors';
import { zeroCopySendForTests } from '../../src/http/zeroCopySend';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const CONTENT = 'abcdefghijklmnopqrstuvwxyz0123456789'; // 36 bytes
const CONTENT_B = Buffer.from(CONTENT);

let t: TestServer;

function header(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

function methodsOf(allow: string | undefined): string[] {
  return (allow ?? '').split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
}

async function getetagOf(path: string): Promise<string | undefined> {
  const res = await t.request('PROPFIND', path, {
    headers: { Depth: '0', 'Content-Type': 'application/xml' },
    body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>',
  });
  expect(res.status).toBe(207);
  return text(res.xml(), DAV, 'getetag');
}

beforeAll(async () => {
  t = await startTestServer();
  await writeFile(join(t.root, 'alpha.txt'), CONTENT_B);
  await writeFile(join(t.root, 'data.json'), '{"a":1}');
  await writeFile(join(t.root, 'blob.zzqqxx'), Buffer.from([0, 1, 2, 3]));
  await writeFile(join(t.root, 'page.html'), '<p>hi</p>');
});

afterAll(async () => {
  await t.close();
});

describe('OPTIONS', () => {
  it('announces DAV classes 1 and 2, Allow and MS-Author-Via on a resource', async () => {
    const res = await t.request('OPTIONS', '/alpha.txt');
    expect(res.status).toBe(200);
    const dav = (header(res, 'dav') ?? '').split(',').map((s) => s.trim());
    expect(dav).toEqual(expect.arrayContaining(['1', '2']));
    expect(header(res, 'ms-author-via')).toBe('DAV');
    const allow = methodsOf(header(res, 'allow'));
    for (const m of ['OPTIONS', 'GET', 'HEAD', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPFIND', 'PROPPATCH', 'LOCK', 'UNLOCK']) {
      expect(allow).toContain(m);
    }
  });

  it('answers on the root collection too', async () => {
    const res = await t.request('OPTIONS', '/');
    expect(res.status).toBe(200);
    expect((header(res, 'dav') ?? '').replace(/\s/g, '')).toMatch(/^1,2/);
    expect(methodsOf(header(res, 'allow'))).toEqual(expect.arrayContaining(['PROPFIND', 'LOCK', 'UNLOCK', 'PROPPATCH']));
  });

  it('answers OPTIONS * (asterisk-form) with the server-wide capabilities', async () => {
    const res = await rawRequest(t.port, 'OPTIONS * HTTP/1.1');
    expect(res.status).toBe(200);
    expect((res.headers['dav'] ?? '').split(',').map((s) => s.trim())).toEqual(expect.arrayContaining(['1', '2']));
    expect(res.headers['ms-author-via']).toBe('DAV');
    expect(methodsOf(res.headers['allow'])).toEqual(expect.arrayContaining(['GET', 'PUT', 'PROPFIND', 'LOCK']));
  });
});

describe('GET and HEAD of a file', () => {
  it('GET returns the bytes with Content-Length, Content-Type from the name, ETag and Last-Modified', async () => {
    const res = await t.request('GET', '/alpha.txt');
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
    expect(header(res, 'content-length')).toBe(String(CONTENT_B.length));
    expect(header(res, 'content-type')).toMatch(/^text\/plain\b/);
    const etag = header(res, 'etag');
    expect(etag).toMatch(/^"[^"]+"$/); // strong (no W/), quoted
    const lastModified = header(res, 'last-modified');
    expect(lastModified).toMatch(IMF_FIXDATE);
    const mtime = (await stat(join(t.root, 'alpha.txt'))).mtimeMs;
    expect(Math.floor(Date.parse(lastModified!) / 1000)).toBe(Math.floor(mtime / 1000));
  });

  it.each([
    ['/data.json', /^application\/json\b/],
    ['/page.html', /^text\/html\b/],
    ['/blob.zzqqxx', /^application\/octet-stream$/],
  ])('Content-Type of %s comes from its name', async (path, type) => {
    const res = await t.request('GET', path);
    expect(res.status).toBe(200);
    expect(header(res, 'content-type')).toMatch(type);
  });

  it('the ETag header equals the DAV:getetag property, and is stable across requests', async () => {
    const a = await t.request('GET', '/alpha.txt');
    const b = await t.request('HEAD', '/alpha.txt');
    const prop = await getetagOf('/alpha.txt');
    expect(prop).toBeDefined();
    expect(header(a, 'etag')).toBe(prop);
    expect(header(b, 'etag')).toBe(prop);
  });

  it('HEAD has the GET headers and no body', async () => {
    const get = await t.request('GET', '/alpha.txt');
    const head = await rawRequest(t.port, 'HEAD /alpha.txt HTTP/1.1');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(CONTENT_B.length));
    expect(head.headers['etag']).toBe(header(get, 'etag'));
    expect(head.headers['last-modified']).toBe(header(get, 'last-modified'));
    expect(head.headers['content-type']).toBe(header(get, 'content-type'));
    // Nothing at all after the head on the wire.
    const raw = head.raw;
    expect(raw.length - (raw.indexOf('\r\n\r\n') + 4)).toBe(0);
  });

  it('GET of a missing file is 404, and HEAD of one has no body', async () => {
    const res = await t.request('GET', '/nope.txt');
    expect(res.status).toBe(404);
    const head = await rawRequest(t.port, 'HEAD /nope.txt HTTP/1.1');
    expect(head.status).toBe(404);
    expect(head.raw.length - (head.raw.indexOf('\r\n\r\n') + 4)).toBe(0);
    const below = await t.request('GET', '/nodir/nope.txt');
    expect(below.status).toBe(404);
  });

  it('an empty file answers 200 with Content-Length 0', async () => {
    await writeFile(join(t.root, 'empty.bin'), '');
    const res = await t.request('GET', '/empty.bin');
    expect(res.status).toBe(200);
    expect(header(res, 'content-length')).toBe('0');
    expect(res.body.length).toBe(0);
  });
});

describe('Range (RFC 9110 §14)', () => {
  const size = CONTENT_B.length;

  it.each([
    ['bytes=2-5', 2, 5],
    ['bytes=-3', size - 3, size - 1],
    ['bytes=5-', 5, size - 1],
    ['bytes=30-1000', 30, size - 1],
  ])('%s is 206 with the right bytes and Content-Range', async (range, start, end) => {
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(res.body.equals(CONTENT_B.subarray(start, end + 1))).toBe(true);
    expect(header(res, 'content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(header(res, 'content-length')).toBe(String(end - start + 1));
    expect(header(res, 'etag')).toMatch(/^"[^"]+"$/);
  });

  it('an unsatisfiable range is 416 with Content-Range: bytes */N', async () => {
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: `bytes=${size}-` } });
    expect(res.status).toBe(416);
    expect(header(res, 'content-range')).toBe(`bytes */${size}`);
    const far = await t.request('GET', '/alpha.txt', { headers: { Range: 'bytes=1000-2000' } });
    expect(far.status).toBe(416);
    expect(header(far, 'content-range')).toBe(`bytes */${size}`);
  });

  it.each(['bytes=5-2', 'bytes=0-1,4-5', 'items=0-3', 'bytes=abc'])('a Range header to ignore (%s) sends the whole file with 200', async (range) => {
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: range } });
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
    expect(header(res, 'content-range')).toBeUndefined();
  });

  it('HEAD with a Range answers 206 headers and no body', async () => {
    const res = await rawRequest(t.port, 'HEAD /alpha.txt HTTP/1.1\r\nRange: bytes=2-5');
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 2-5/${size}`);
    expect(res.headers['content-length']).toBe('4');
    expect(res.raw.length - (res.raw.indexOf('\r\n\r\n') + 4)).toBe(0);
  });

  it('If-Range with the current ETag applies the range (206)', async () => {
    const etag = await getetagOf('/alpha.txt');
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: 'bytes=2-5', 'If-Range': etag! } });
    expect(res.status).toBe(206);
    expect(res.text).toBe('cdef');
  });

  it('If-Range with another ETag sends the whole file (200)', async () => {
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: 'bytes=2-5', 'If-Range': '"not-the-current-etag"' } });
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
    expect(header(res, 'content-range')).toBeUndefined();
  });

  it('If-Range with the Last-Modified date applies the range (Finder: bytes=K- with a date)', async () => {
    const lm = header(await t.request('HEAD', '/alpha.txt'), 'last-modified')!;
    const res = await t.request('GET', '/alpha.txt', { headers: { Range: 'bytes=30-', 'If-Range': lm } });
    expect(res.status).toBe(206);
    expect(res.text).toBe(CONTENT.slice(30));
  });

  it('If-Range with a date that another content had too sends the whole file, never one version\'s head with another\'s tail (RFC 9110 §8.8.2.2)', async () => {
    // A client's stated modification time: the new content carries the old date.
    expect((await t.request('PUT', '/backdated.txt', { body: 'AAAAAAAAAA', headers: { 'X-OC-Mtime': '1700000000' } })).status).toBe(201);
    const lm = header(await t.request('HEAD', '/backdated.txt'), 'last-modified')!;
    expect((await t.request('PUT', '/backdated.txt', { body: 'BBBBBBBBBB', headers: { 'X-OC-Mtime': '1700000000' } })).status).toBe(204);
    expect(header(await t.request('HEAD', '/backdated.txt'), 'last-modified')).toBe(lm);
    const resumed = await t.request('GET', '/backdated.txt', { headers: { Range: 'bytes=5-', 'If-Range': lm } });
    expect([resumed.status, resumed.text]).toEqual([200, 'BBBBBBBBBB']);
    // Two writes in one second: the first one's date may be the second's too.
    expect((await t.request('PUT', '/twice.txt', { body: 'first.....' })).status).toBe(201);
    const first = header(await t.request('HEAD', '/twice.txt'), 'last-modified')!;
    expect((await t.request('PUT', '/twice.txt', { body: 'second....' })).status).toBe(204);
    const again = await t.request('GET', '/twice.txt', { headers: { Range: 'bytes=6-', 'If-Range': first } });
    expect([again.status, again.text]).toEqual([200, 'second....']);
  });
});

describe.each([
  ['by sendfile (http/zeroCopySend.ts, when built)', true],
  ['through the buffers', false],
])('GET of a file larger than one read, %s', (_way, sendfile) => {
  // Several 1 MiB reads through the two reused buffers of storage/fileContent.ts, and a part of
  // one; or the same bytes sent by the native sendfile helper.
  const big = randomBytes(24 * 1024 * 1024 + 777);

  beforeAll(async () => {
    zeroCopySendForTests.use(sendfile);
    await writeFile(join(t.root, 'big.bin'), big);
  });
  afterAll(() => zeroCopySendForTests.use(true));

  it('sends every byte, and a range crossing reads, exactly', async () => {
    const startedBefore = zeroCopySendForTests.started();
    const whole = await t.request('GET', '/big.bin');
    expect(whole.status).toBe(200);
    expect(header(whole, 'content-length')).toBe(String(big.length));
    expect(whole.body.equals(big)).toBe(true);
    const part = await t.request('GET', '/big.bin', { headers: { Range: 'bytes=1048570-3145740' } });
    expect(part.status).toBe(206);
    expect(part.body.equals(big.subarray(1048570, 3145741))).toBe(true);
    expect(zeroCopySendForTests.started() - startedBefore).toBe(sendfile && zeroCopySendForTests.available() ? 2 : 0);
  });

  it('a client that leaves midway leaves no file open, and the next download is whole', async () => {
    const socket = connect(t.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve)); // the answer has started
    socket.destroy();
    const host = join(t.root, 'big.bin');
    const openOnBig = () => openDescriptorsOn(host);
    for (let waited = 0; openOnBig() > 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(openOnBig()).toBe(0);
    const again = await t.request('GET', '/big.bin');
    expect(again.body.equals(big)).toBe(true);
  });
});

describe('conditional GET (RFC 9110 §13)', () => {
  it('If-None-Match with the current ETag is 304 with no body, and the ETag', async () => {
    const etag = header(await t.request('HEAD', '/alpha.txt'), 'etag')!;
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(header(res, 'etag')).toBe(etag);
  });

  it('If-None-Match with another ETag is 200 with the body', async () => {
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-None-Match': '"something-else"' } });
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
  });

  it('If-Modified-Since equal to Last-Modified is 304; an older date is 200', async () => {
    const lm = header(await t.request('HEAD', '/alpha.txt'), 'last-modified')!;
    const same = await t.request('GET', '/alpha.txt', { headers: { 'If-Modified-Since': lm } });
    expect(same.status).toBe(304);
    expect(same.body.length).toBe(0);
    const older = new Date(Date.parse(lm) - 3600_000).toUTCString();
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-Modified-Since': older } });
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
  });

  it('an If-Modified-Since that is no HTTP date is ignored (200); a later date is 304', async () => {
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-Modified-Since': 'yesterday-ish' } });
    expect(res.status).toBe(200);
    expect(res.body.equals(CONTENT_B)).toBe(true);
    const lm = header(await t.request('HEAD', '/alpha.txt'), 'last-modified')!;
    const later = new Date(Date.parse(lm) + 3600_000).toUTCString();
    expect((await t.request('GET', '/alpha.txt', { headers: { 'If-Modified-Since': later } })).status).toBe(304);
  });

  it('If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)', async () => {
    const lm = header(await t.request('HEAD', '/alpha.txt'), 'last-modified')!;
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': lm } });
    expect(res.status).toBe(200);
  });

  it('If-Match with another ETag on GET is 412; If-None-Match: * on an existing file is 304', async () => {
    const res = await t.request('GET', '/alpha.txt', { headers: { 'If-Match': '"stale"' } });
    expect(res.status).toBe(412);
    expect(res.text).not.toContain(CONTENT);
    const star = await t.request('GET', '/alpha.txt', { headers: { 'If-None-Match': '*' } });
    expect(star.status).toBe(304);
  });

  it('after the content changes, the old ETag no longer yields 304', async () => {
    await writeFile(join(t.root, 'changing.txt'), 'version one');
    const etag1 = header(await t.request('GET', '/changing.txt'), 'etag')!;
    const put = await t.request('PUT', '/changing.txt', { body: 'version two, longer' });
    expect(put.status).toBe(204);
    const res = await t.request('GET', '/changing.txt', { headers: { 'If-None-Match': etag1 } });
    expect(res.status).toBe(200);
    expect(res.text).toBe('version two, longer');
    expect(header(res, 'etag')).not.toBe(etag1);
  });
});

describe('GET on a collection', () => {
  const names = ['<b>&x.txt', 'plain.txt', 'sub', 'quote"\'.txt'];

  beforeAll(async () => {
    await mkdir(join(t.root, 'list'));
    const put1 = await t.request('PUT', '/list/%3Cb%3E%26x.txt', { body: 'tricky' });
    expect(put1.status).toBe(201);
    await writeFile(join(t.root, 'list', 'plain.txt'), 'p');
    await writeFile(join(t.root, 'list', 'quote"\'.txt'), 'q');
    await mkdir(join(t.root, 'list', 'sub'));
  });

  it('the PUT created the file under its decoded name on disk', async () => {
    expect(await readFile(join(t.root, 'list', '<b>&x.txt'), 'utf8')).toBe('tricky');
  });

  it('answers an HTML index listing every member, names escaped', async () => {
    const res = await t.request('GET', '/list/');
    expect(res.status).toBe(200);
    expect(header(res, 'content-type')).toMatch(/^text\/html/);
    const html = res.text;
    expect(html).toContain('&lt;b&gt;&amp;x.txt');
    expect(html).not.toContain('<b>&x');
    expect(html).not.toContain('<b>');
    expect(html).toContain('plain.txt');
    expect(html).toContain('sub/');
    expect(html).toContain('quote&quot;&#39;.txt');
    expect(html).not.toContain('quote"\'');
    // Every member has a link.
    for (const name of names) {
      const escaped = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
      expect(html).toContain(escaped);
    }
    // Hrefs are percent-encoded and hold no entity (lftp reads `&#39;` literally), text stays escaped.
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    for (const h of hrefs) expect(h).not.toMatch(/[&<>'"]/);
    expect(hrefs).toContain('/list/quote%22%27.txt');
    const tricky = hrefs.find((h) => decodeURIComponent(h).endsWith('<b>&x.txt'));
    expect(tricky).toBeDefined();
    const follow = await t.request('GET', tricky!);
    expect(follow.status).toBe(200);
    expect(follow.text).toBe('tricky');
  });

  it('without the trailing slash it answers the same listing', async () => {
    const res = await t.request('GET', '/list');
    expect(res.status).toBe(200);
    expect(res.text).toContain('plain.txt');
  });

  it('HEAD of a collection has no body', async () => {
    const res = await rawRequest(t.port, 'HEAD /list/ HTTP/1.1');
    expect(res.status).toBe(200);
    expect(res.raw.length - (res.raw.indexOf('\r\n\r\n') + 4)).toBe(0);
  });

  it('is never "not modified since" a date: a member changed in place leaves the folder\'s time as it was', async () => {
    const lm = header(await t.request('GET', '/list/'), 'last-modified')!;
    // A member's time changes, the folder's does not.
    const patched = await t.request('PROPPATCH', '/list/plain.txt', {
      headers: { 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>Mon, 01 Jan 2001 00:00:00 GMT</D:getlastmodified></D:prop></D:set></D:propertyupdate>',
    });
    expect(patched.status).toBe(207);
    const again = await t.request('GET', '/list/', { headers: { 'If-Modified-Since': lm } });
    expect(again.status).toBe(200);
    expect(again.text).toContain('2001');
  });

  it('the index of the root lists top-level members', async () => {
    const res = await t.request('GET', '/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('alpha.txt');
    expect(res.text).toContain('list/');
  });

  it('PROPFIND Depth 1 lists the same members as the index', async () => {
    const res = await t.request('PROPFIND', '/list/', { headers: { Depth: '1' } });
    expect(res.status).toBe(207);
    const hrefs = findAll(res.xml(), DAV, 'href').map((h) => decodeURIComponent(text(h, DAV, 'href') ?? ''));
    expect(hrefs.sort()).toEqual(['/list/', '/list/<b>&x.txt', '/list/plain.txt', '/list/quote"\'.txt', '/list/sub/'].sort());
    expect(first(res.xml(), DAV, 'multistatus')).toBeDefined();
  });
});
