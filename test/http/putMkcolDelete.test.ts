/**
 * PUT, MKCOL and DELETE over a real server (RFC 9110 §9.3.4-5, RFC 4918 §9.3, §9.6, §9.7):
 * statuses, validators, what lands on disk, atomic replacement under aborted and refused
 * uploads, and dead properties that go with a deleted resource.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, findAll, first, text } from '../support/xmlQuery';
import { rawRequest } from '../support/rawHttp';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';
import { uploadTemporaries } from '../support/uploadTemporaries';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const KEEPDAV = 'urn:keepdav:ns';

let t: TestServer;

function header(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Every entry name below `dir`, recursively (relative paths). */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), prefix + e.name + '/')));
  }
  return out;
}

function allElements(e: XmlElement): XmlElement[] {
  return [e, ...childElements(e).flatMap(allElements)];
}

function patterned(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/** A PUT sent with node:http directly, body in several chunked writes. */
function chunkedPut(path: string, parts: Buffer[], headers: Record<string, string> = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: t.port, method: 'PUT', path, headers: { 'Transfer-Encoding': 'chunked', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), xml: () => { throw new Error('not parsed'); } });
        });
      },
    );
    req.on('error', reject);
    let i = 0;
    const next = () => {
      if (i >= parts.length) {
        req.end();
        return;
      }
      req.write(parts[i++]);
      setTimeout(next, 5);
    };
    next();
  });
}

async function propfindProp(path: string, ns: string, local: string): Promise<Map<number, XmlElement[]>> {
  const res = await t.request('PROPFIND', path, {
    headers: { Depth: '0', 'Content-Type': 'application/xml' },
    body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:x="${ns}"><D:prop><x:${local}/></D:prop></D:propfind>`,
  });
  expect(res.status).toBe(207);
  const out = new Map<number, XmlElement[]>();
  for (const ps of findAll(res.xml(), DAV, 'propstat')) {
    const status = Number((text(ps, DAV, 'status') ?? '').split(' ')[1]);
    out.set(status, childElements(first(ps, DAV, 'prop')!));
  }
  return out;
}

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.close();
});

describe('PUT', () => {
  it('creates a new file: 201 with ETag and Last-Modified, bytes on disk', async () => {
    const res = await t.request('PUT', '/new.txt', { body: 'first content', headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(201);
    expect(header(res, 'etag')).toMatch(/^"[^"]+"$/);
    expect(header(res, 'last-modified')).toMatch(IMF_FIXDATE);
    expect(await readFile(join(t.root, 'new.txt'), 'utf8')).toBe('first content');
    const get = await t.request('GET', '/new.txt');
    expect(get.text).toBe('first content');
    expect(header(get, 'etag')).toBe(header(res, 'etag'));
  });

  it('replaces an existing file: 204 with a new ETag when the content changes', async () => {
    const before = header(await t.request('HEAD', '/new.txt'), 'etag');
    const res = await t.request('PUT', '/new.txt', { body: 'second content' });
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    const etag = header(res, 'etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(etag).not.toBe(before);
    expect(header(res, 'last-modified')).toMatch(IMF_FIXDATE);
    expect(await readFile(join(t.root, 'new.txt'), 'utf8')).toBe('second content');
    expect(header(await t.request('HEAD', '/new.txt'), 'etag')).toBe(etag);
  });

  it('the ETag changes even when a replacement has the same length in the same second', async () => {
    const a = await t.request('PUT', '/same-len.txt', { body: 'AAAA' });
    const b = await t.request('PUT', '/same-len.txt', { body: 'BBBB' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(204);
    expect(header(b, 'etag')).not.toBe(header(a, 'etag'));
    expect(await readFile(join(t.root, 'same-len.txt'), 'utf8')).toBe('BBBB');
  });

  it('an empty PUT creates an empty file', async () => {
    const res = await t.request('PUT', '/zero.bin', { headers: { 'Content-Length': 0 } });
    expect(res.status).toBe(201);
    expect((await stat(join(t.root, 'zero.bin'))).size).toBe(0);
  });

  it('with a missing parent is 409 with a DAV:error naming the missing ancestor, and creates nothing', async () => {
    const before = await walk(t.root);
    const res = await t.request('PUT', '/nope/deeper/f.txt', { body: 'x' });
    expect(res.status).toBe(409);
    expect(header(res, 'content-type')).toMatch(/xml/);
    const xml = res.xml();
    expect(xml.ns).toBe(DAV);
    expect(xml.local).toBe('error');
    expect(text(xml, KEEPDAV, 'code')).toBe('parent-missing');
    // The nearest missing ancestor is /nope/ (not /nope/deeper/).
    const texts = allElements(xml).filter((e) => childElements(e).length === 0).map((e) => textOf(e));
    expect(texts).toContain('/nope/');
    expect(texts).not.toContain('/nope/deeper/');
    expect(await exists(join(t.root, 'nope'))).toBe(false);
    expect(await walk(t.root)).toEqual(before);
  });

  it('below a file (parent is not a collection) is 409 and changes nothing', async () => {
    await writeFile(join(t.root, 'plainfile'), 'plain');
    const res = await t.request('PUT', '/plainfile/child.txt', { body: 'x' });
    expect(res.status).toBe(409);
    expect(await readFile(join(t.root, 'plainfile'), 'utf8')).toBe('plain');
  });

  it('onto a collection is 405 with an Allow header without PUT; the collection stays', async () => {
    await mkdir(join(t.root, 'acoll'));
    await writeFile(join(t.root, 'acoll', 'inner.txt'), 'inner');
    for (const path of ['/acoll', '/acoll/']) {
      const res = await t.request('PUT', path, { body: 'not a file' });
      expect(res.status).toBe(405);
      const allow = (header(res, 'allow') ?? '').split(',').map((m) => m.trim());
      expect(allow).toContain('GET');
      expect(allow).not.toContain('PUT');
    }
    expect((await stat(join(t.root, 'acoll'))).isDirectory()).toBe(true);
    expect(await readFile(join(t.root, 'acoll', 'inner.txt'), 'utf8')).toBe('inner');
  });

  it('on the root is 405', async () => {
    const res = await t.request('PUT', '/', { body: 'x' });
    expect(res.status).toBe(405);
  });

  it('chunked (Transfer-Encoding: chunked) stores every byte', async () => {
    const parts = [patterned(1000, 1), patterned(70_000, 2), patterned(3, 3), patterned(200_000, 4)];
    const res = await chunkedPut('/chunked.bin', parts);
    expect(res.status).toBe(201);
    const disk = await readFile(join(t.root, 'chunked.bin'));
    expect(disk.equals(Buffer.concat(parts))).toBe(true);
    expect(header(res, 'etag')).toMatch(/^"[^"]+"$/);
  });

  it('a hand-made chunked body over a raw socket is stored exactly', async () => {
    const body = '5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n';
    const res = await rawRequest(t.port, 'PUT /rawchunk.txt HTTP/1.1\r\nTransfer-Encoding: chunked', body);
    expect(res.status).toBe(201);
    expect(await readFile(join(t.root, 'rawchunk.txt'), 'utf8')).toBe('hello, world');
  });

  it('with Expect: 100-continue: the server sends 100 Continue, then stores the body', async () => {
    const body = patterned(50_000, 9);
    let continued = false;
    const res = await new Promise<{ status: number; etag: string | undefined }>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: t.port, method: 'PUT', path: '/expect.bin',
        headers: { Expect: '100-continue', 'Content-Length': body.length },
      }, (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode ?? 0, etag: r.headers.etag }));
      });
      const timer = setTimeout(() => {
        if (!continued) reject(new Error('no 100 Continue within 5 s'));
      }, 5000);
      req.on('continue', () => {
        continued = true;
        clearTimeout(timer);
        req.end(body);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(continued).toBe(true);
    expect(res.status).toBe(201);
    expect(res.etag).toMatch(/^"[^"]+"$/);
    expect((await readFile(join(t.root, 'expect.bin'))).equals(body)).toBe(true);
  });

  it('Finder-style chunked PUT with X-Expected-Entity-Length stores N bytes', async () => {
    const parts = [patterned(4096, 5), patterned(10_000, 6), patterned(1, 7)];
    const n = parts.reduce((s, p) => s + p.length, 0);
    const res = await chunkedPut('/finder.bin', parts, { 'X-Expected-Entity-Length': String(n), 'User-Agent': 'WebDAVFS/3.0.0 (03008000) Darwin/22.0.0' });
    expect(res.status).toBe(201);
    expect((await readFile(join(t.root, 'finder.bin'))).equals(Buffer.concat(parts))).toBe(true);
  });

  it('a chunked body shorter than X-Expected-Entity-Length is refused and leaves the old file whole', async () => {
    const old = patterned(3000, 11);
    await writeFile(join(t.root, 'finder-short.bin'), old);
    const res = await chunkedPut('/finder-short.bin', [patterned(100, 12)], { 'X-Expected-Entity-Length': '5000' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await readFile(join(t.root, 'finder-short.bin'))).equals(old)).toBe(true);
    expect((await walk(t.root)).filter((n) => n.split('/').pop()!.startsWith('.keepdav-tmp-'))).toEqual([]);
  });

  it('with Content-Range is 400 and leaves the old file byte-identical', async () => {
    const old = patterned(200, 13);
    await writeFile(join(t.root, 'ranged.bin'), old);
    const res = await t.request('PUT', '/ranged.bin', { body: patterned(100, 14), headers: { 'Content-Range': 'bytes 100-199/200' } });
    expect(res.status).toBe(400);
    expect((await readFile(join(t.root, 'ranged.bin'))).equals(old)).toBe(true);
  });

  it('an aborted upload leaves the old content byte-identical and no temp file anywhere', async () => {
    const old = patterned(5000, 15);
    await mkdir(join(t.root, 'abort'), { recursive: true });
    await writeFile(join(t.root, 'abort', 'victim.bin'), old);
    const etagBefore = header(await t.request('HEAD', '/abort/victim.bin'), 'etag');

    await new Promise<void>((resolve, reject) => {
      const socket = connect(t.port, '127.0.0.1', () => {
        socket.write(`PUT /abort/victim.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Length: 100000\r\n\r\n`);
        socket.write(patterned(1000, 16), () => {
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 150);
        });
      });
      socket.on('error', reject);
    });

    // Give the server time to notice the abort and clean up; then nothing may remain.
    const deadline = Date.now() + 5000;
    let temps: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      temps = (await walk(t.root)).filter((n) => n.split('/').pop()!.startsWith('.keepdav-tmp-'));
    } while (temps.length > 0 && Date.now() < deadline);
    expect(temps).toEqual([]);
    expect((await readFile(join(t.root, 'abort', 'victim.bin'))).equals(old)).toBe(true);
    expect(await readdir(join(t.root, 'abort'))).toEqual(['victim.bin']);
    // The server still serves the old version, with the old ETag.
    const get = await t.request('GET', '/abort/victim.bin');
    expect(get.status).toBe(200);
    expect(get.body.equals(old)).toBe(true);
    expect(header(get, 'etag')).toBe(etagBefore);
  });

  it('an aborted upload of a new file leaves no file and no temp file', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(t.port, '127.0.0.1', () => {
        socket.write(`PUT /abort/fresh.bin HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nContent-Length: 100000\r\n\r\n`);
        socket.write(patterned(1000, 17), () => setTimeout(() => { socket.destroy(); resolve(); }, 150));
      });
      socket.on('error', reject);
    });
    const deadline = Date.now() + 5000;
    let names: string[] = [];
    do {
      await new Promise((r) => setTimeout(r, 100));
      names = await readdir(join(t.root, 'abort'));
    } while (names.length !== 1 && Date.now() < deadline);
    expect(names).toEqual(['victim.bin']);
    expect((await t.request('GET', '/abort/fresh.bin')).status).toBe(404);
  });
});

describe('MKCOL', () => {
  it('creates a collection (201), then 405 on the same URL', async () => {
    const res = await t.request('MKCOL', '/made/');
    expect(res.status).toBe(201);
    expect((await stat(join(t.root, 'made'))).isDirectory()).toBe(true);
    const again = await t.request('MKCOL', '/made/');
    expect(again.status).toBe(405);
    const allow = (header(again, 'allow') ?? '').split(',').map((m) => m.trim());
    expect(allow).not.toContain('MKCOL');
    expect((await stat(join(t.root, 'made'))).isDirectory()).toBe(true);
  });

  it('on an existing file is 405 and the file stays', async () => {
    await writeFile(join(t.root, 'isfile.txt'), 'file');
    const res = await t.request('MKCOL', '/isfile.txt');
    expect(res.status).toBe(405);
    expect(await readFile(join(t.root, 'isfile.txt'), 'utf8')).toBe('file');
  });

  it('with a missing parent is 409 and creates nothing', async () => {
    const res = await t.request('MKCOL', '/x-missing/y/');
    expect(res.status).toBe(409);
    expect(res.xml().local).toBe('error');
    expect(await exists(join(t.root, 'x-missing'))).toBe(false);
  });

  it('with a body is 415 and creates nothing', async () => {
    const res = await t.request('MKCOL', '/withbody/', { body: '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:"/>', headers: { 'Content-Type': 'application/xml' } });
    expect(res.status).toBe(415);
    expect(await exists(join(t.root, 'withbody'))).toBe(false);
  });

  it('without a trailing slash works (Windows "New folder")', async () => {
    const res = await t.request('MKCOL', '/New%20folder');
    expect(res.status).toBe(201);
    expect((await stat(join(t.root, 'New folder'))).isDirectory()).toBe(true);
    const list = await t.request('PROPFIND', '/New%20folder', { headers: { Depth: '0' } });
    expect(list.status).toBe(207);
    expect(findAll(list.xml(), DAV, 'collection')).toHaveLength(1);
  });

  it('nested MKCOL after its parent works', async () => {
    expect((await t.request('MKCOL', '/made/inner/')).status).toBe(201);
    expect((await stat(join(t.root, 'made', 'inner'))).isDirectory()).toBe(true);
  });
});

describe('DELETE', () => {
  it('of a file is 204 and removes it from disk', async () => {
    await writeFile(join(t.root, 'gone.txt'), 'bye');
    const res = await t.request('DELETE', '/gone.txt');
    expect(res.status).toBe(204);
    expect(await exists(join(t.root, 'gone.txt'))).toBe(false);
    expect((await t.request('GET', '/gone.txt')).status).toBe(404);
  });

  it('of a tree is 204 and leaves nothing of it on disk', async () => {
    await mkdir(join(t.root, 'tree', 'a', 'b'), { recursive: true });
    await writeFile(join(t.root, 'tree', 'top.txt'), '1');
    await writeFile(join(t.root, 'tree', 'a', 'mid.txt'), '2');
    await writeFile(join(t.root, 'tree', 'a', 'b', 'deep.txt'), '3');
    const res = await t.request('DELETE', '/tree/');
    expect(res.status).toBe(204);
    expect(await exists(join(t.root, 'tree'))).toBe(false);
    expect((await readdir(t.root)).filter((n) => n === 'tree')).toEqual([]);
    expect(await uploadTemporaries(t)).toEqual([]);
  });

  it('of everything leaves the root empty', async () => {
    // .keepdav-state-id ties the root to its state (README, "What is stored where"); no URL reaches it.
    const served = async () => (await readdir(t.root)).filter((n) => n !== '.keepdav-state-id');
    for (const name of await served()) {
      const res = await t.request('DELETE', '/' + encodeURIComponent(name));
      expect([name, res.status]).toEqual([name, 204]);
    }
    expect(await served()).toEqual([]);
  });

  it('of a missing resource is 404', async () => {
    const res = await t.request('DELETE', '/never-was.txt');
    expect(res.status).toBe(404);
    const below = await t.request('DELETE', '/never/was.txt');
    expect(below.status).toBe(404);
  });

  it('with Depth: 0 on a collection is 400 and removes nothing', async () => {
    await mkdir(join(t.root, 'keepme'));
    await writeFile(join(t.root, 'keepme', 'f.txt'), 'f');
    const res = await t.request('DELETE', '/keepme/', { headers: { Depth: '0' } });
    expect(res.status).toBe(400);
    expect(await readFile(join(t.root, 'keepme', 'f.txt'), 'utf8')).toBe('f');
  });

  it('removes dead properties: a re-created file does not get them back', async () => {
    const put = await t.request('PUT', '/withprop.txt', { body: 'v1' });
    expect(put.status).toBe(201);
    const patch = await t.request('PROPPATCH', '/withprop.txt', {
      headers: { 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:example:test"><D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>',
    });
    expect(patch.status).toBe(207);
    expect(text(patch.xml(), DAV, 'status')).toMatch(/ 200 /);
    const set = await propfindProp('/withprop.txt', 'urn:example:test', 'color');
    expect(set.get(200)?.map((e) => textOf(e))).toEqual(['blue']);

    expect((await t.request('DELETE', '/withprop.txt')).status).toBe(204);
    expect((await t.request('PUT', '/withprop.txt', { body: 'v2' })).status).toBe(201);
    const after = await propfindProp('/withprop.txt', 'urn:example:test', 'color');
    expect(after.get(200) ?? []).toEqual([]);
    expect(after.get(404)?.map((e) => `${e.ns} ${e.local}`)).toEqual(['urn:example:test color']);
  });

  it('of a collection removes the dead properties of its members too', async () => {
    expect((await t.request('MKCOL', '/pc/')).status).toBe(201);
    expect((await t.request('PUT', '/pc/m.txt', { body: 'm' })).status).toBe(201);
    const patch = await t.request('PROPPATCH', '/pc/m.txt', {
      headers: { 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:example:test"><D:set><D:prop><Z:tag>t1</Z:tag></D:prop></D:set></D:propertyupdate>',
    });
    expect(patch.status).toBe(207);
    expect((await t.request('DELETE', '/pc/')).status).toBe(204);
    expect((await t.request('MKCOL', '/pc/')).status).toBe(201);
    expect((await t.request('PUT', '/pc/m.txt', { body: 'm2' })).status).toBe(201);
    const after = await propfindProp('/pc/m.txt', 'urn:example:test', 'tag');
    expect(after.get(200) ?? []).toEqual([]);
    expect(after.has(404)).toBe(true);
  });
});
