/**
 * Equivalent names (semantics.md "Status by situation"): a request by a name equal to an existing
 * member's after Unicode NFC normalization addresses that member (PUT, and COPY or MOVE onto it,
 * overwrite it under its conditions and locks, keeping the stored name; MKCOL onto it is 405), so no second look-alike name is ever created; 409
 * duplicate-name is left for where two existing members already collide. With a case-insensitive
 * share, names differing only in case are the same name.
 */
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, findAll, text } from '../support/xmlQuery';
import { codeOf, conflictFields, hdr, walk } from '../support/conflictKit';
import { dest, lockinfo } from '../support/davHttpKit';

const NFC_NAME = 'caf\u00e9.txt';
const NFD_NAME = 'cafe\u0301.txt';
const NFC = '/d/caf%C3%A9.txt';
const NFD = '/d/cafe%CC%81.txt';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  expect((await t.request('MKCOL', '/d')).status).toBe(201);
  expect((await t.request('PUT', NFC, { body: 'precomposed' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

/** The existing member's href as the duplicate-name answer names it (any leaf element text). */
function namesHref(res: TestResponse, href: string): boolean {
  const fields = conflictFields(res);
  return Object.values(fields).some((v) => v === href || v.endsWith(href));
}

async function diskNames(dir: string): Promise<string[]> {
  return (await readdir(join(t.root, dir))).sort();
}

describe('NFC / NFD', () => {
  it('sanity: the two spellings are different names on disk but the same after NFC', () => {
    expect(NFC_NAME).not.toBe(NFD_NAME);
    expect(NFD_NAME.normalize('NFC')).toBe(NFC_NAME);
  });

  it('PUT of the NFD name overwrites the NFC member (204); the stored name stays NFC, the old bytes are a version', async () => {
    const res = await t.request('PUT', NFD, { body: 'decomposed' });
    expect(res.status).toBe(204);
    expect(await diskNames('d')).toEqual([NFC_NAME]);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('decomposed');
    expect(hdr(res, 'etag')).toBe(hdr(await t.request('HEAD', NFC), 'etag'));
    const versions = JSON.parse((await t.request('GET', `${NFC}?versions`)).text) as { versions: Array<{ size: number }> };
    expect(versions.versions.map((v) => v.size)).toEqual([11]);
  });

  it('PUT of the NFD name is subject to the member\'s conditions: If-Match with a stale ETag is 412, nothing written', async () => {
    const res = await t.request('PUT', NFD, { body: 'nope', headers: { 'If-Match': '"not-the-etag"' } });
    expect(res.status).toBe(412);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('decomposed');
    expect((await t.request('PUT', NFC, { body: 'precomposed' })).status).toBe(204);
  });

  it('PUT of the NFC name itself replaces the member (204)', async () => {
    const res = await t.request('PUT', NFC, { body: 'precomposed 2' });
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('precomposed 2');
    await t.request('PUT', NFC, { body: 'precomposed' });
  });

  it('MKCOL of an equivalent collection name is 405 already-exists naming the member', async () => {
    expect((await t.request('MKCOL', '/d/r%C3%A9sum%C3%A9')).status).toBe(201);
    const res = await t.request('MKCOL', '/d/re%CC%81sume%CC%81');
    expect(res.status).toBe(405);
    expect(codeOf(res)).toBe('already-exists');
    expect(namesHref(res, '/d/r%C3%A9sum%C3%A9/')).toBe(true);
    expect(await diskNames('d')).toEqual([NFC_NAME, 'r\u00e9sum\u00e9'].sort());
  });

  it('a folder named in its NFD spelling is the NFC folder at every depth (Finder inside a folder Windows made): GET, PROPFIND, PUT, MKCOL, LOCK, MOVE into it, and nothing NFD is created', async () => {
    const s = await startTestServer();
    try {
      expect((await s.request('MKCOL', '/%C3%A9t%C3%A9/')).status).toBe(201);
      expect((await s.request('MKCOL', '/%C3%A9t%C3%A9/sous-dossier/')).status).toBe(201);
      expect((await s.request('PUT', '/%C3%A9t%C3%A9/a.txt', { body: 'a' })).status).toBe(201);
      const nfdFolder = '/e%CC%81te%CC%81';
      expect((await s.request('GET', `${nfdFolder}/a.txt`)).text).toBe('a');
      expect((await s.request('PROPFIND', `${nfdFolder}/a.txt`, { headers: { Depth: '0' } })).status).toBe(207);
      expect((await s.request('PUT', `${nfdFolder}/b.txt`, { body: 'b' })).status).toBe(201);
      expect((await s.request('PUT', `${nfdFolder}/sous-dossier/c.txt`, { body: 'c' })).status).toBe(201);
      expect((await s.request('MKCOL', `${nfdFolder}/New%20Folder/`)).status).toBe(201);
      const lock = await s.request('LOCK', `${nfdFolder}/d.txt`, {
        headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
        body: lockinfo('exclusive'),
      });
      expect(lock.status).toBe(201);
      expect((await s.request('PUT', '/e.txt', { body: 'e' })).status).toBe(201);
      expect((await s.request('MOVE', '/e.txt', { headers: { Destination: dest(s, `${nfdFolder}/e.txt`) } })).status).toBe(201);
      expect((await s.request('DELETE', `${nfdFolder}/b.txt`)).status).toBe(204);
      expect((await readdir(s.root)).filter((n) => !n.startsWith('.')).sort()).toEqual(['\u00e9t\u00e9']);
      expect((await readdir(join(s.root, '\u00e9t\u00e9'))).sort()).toEqual(['New Folder', 'a.txt', 'd.txt', 'e.txt', 'sous-dossier']);
      expect(await readFile(join(s.root, '\u00e9t\u00e9', 'sous-dossier', 'c.txt'), 'utf8')).toBe('c');
      // A parent that exists in no spelling is still 409 parent-missing.
      const missing = await s.request('PUT', '/nai%CC%88ve/x.txt', { body: 'x' });
      expect(missing.status).toBe(409);
      expect(codeOf(missing)).toBe('parent-missing');
    } finally {
      await s.close();
    }
  });

  it('a tagged If list naming the request\'s own NFD URL applies to the NFC member it addresses (neon tags with the URL it requests): 204, where a list with a wrong token is 412', async () => {
    const s = await startTestServer();
    try {
      expect((await s.request('PUT', NFC.replace('/d', ''), { body: 'nfc' })).status).toBe(201);
      const lock = await s.request('LOCK', NFC.replace('/d', ''), {
        headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
        body: lockinfo('exclusive'),
      });
      expect(lock.status).toBe(200);
      const token = String(lock.headers['lock-token']).replace(/[<>]/g, '');
      const nfd = NFD.replace('/d', '');
      expect((await s.request('PUT', nfd, { body: 'x', headers: { If: `(<urn:uuid:00000000-0000-4000-8000-000000000000>)` } })).status).toBe(412);
      const tagged = await s.request('PUT', nfd, { body: 'by the tagged token', headers: { If: `<${dest(s, nfd)}> (<${token}>)` } });
      expect(tagged.status).toBe(204);
      expect(await readFile(join(s.root, NFC_NAME), 'utf8')).toBe('by the tagged token');
    } finally {
      await s.close();
    }
  });

  it('a tagged If list naming a locked folder by another spelling (the one it was locked by) applies to that folder: a PUT inside is 201', async () => {
    const s = await startTestServer();
    try {
      expect((await s.request('MKCOL', '/%C3%BCber/')).status).toBe(201);
      const lock = await s.request('LOCK', '/u%CC%88ber/', {
        headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: 'infinity' },
        body: lockinfo('exclusive'),
      });
      expect(lock.status).toBe(200);
      const token = String(lock.headers['lock-token']).replace(/[<>]/g, '');
      const put = await s.request('PUT', '/u%CC%88ber/new.txt', { body: 'n', headers: { If: `<${dest(s, '/u%CC%88ber/')}> (<${token}>)` } });
      expect(put.status).toBe(201);
      expect(await readFile(join(s.root, '\u00fcber', 'new.txt'), 'utf8')).toBe('n');
    } finally {
      await s.close();
    }
  });

  it('the NFC spelling finds a folder or file stored in NFD (as Finder made it), as the NFD spelling finds an NFC one', async () => {
    const s = await startTestServer();
    try {
      expect((await s.request('MKCOL', '/a%CC%80bc%CC%A7/')).status).toBe(201);
      expect((await s.request('PUT', '/a%CC%80bc%CC%A7/f.txt', { body: 'nfd' })).status).toBe(201);
      expect((await s.request('PROPFIND', '/%C3%A0b%C3%A7/', { headers: { Depth: '0' } })).status).toBe(207);
      expect((await s.request('GET', '/%C3%A0b%C3%A7/f.txt')).text).toBe('nfd');
      expect((await s.request('PUT', '/%C3%A0b%C3%A7/g.txt', { body: 'g' })).status).toBe(201);
      expect((await readdir(join(s.root, 'a\u0300bc\u0327'))).sort()).toEqual(['f.txt', 'g.txt']);
    } finally {
      await s.close();
    }
  });

  it('a path segment equivalent to two members that already collide is 409 duplicate-name for reads and writes inside it too (no guess)', async () => {
    const s = await startTestServer({ caseInsensitive: true });
    try {
      await mkdir(join(s.root, 'Xy'));
      await mkdir(join(s.root, 'xY'));
      await writeFile(join(s.root, 'Xy', 'f.txt'), 'one');
      await writeFile(join(s.root, 'xY', 'f.txt'), 'two');
      const before = await walk(s.root);
      for (const [method, path] of [['PUT', '/XY/new.txt'], ['DELETE', '/xy/f.txt'], ['GET', '/XY/f.txt'], ['DELETE', '/xy/']] as const) {
        const res = await s.request(method, path, { body: method === 'PUT' ? 'x' : undefined });
        expect({ method, path, status: res.status, code: codeOf(res) }).toEqual({ method, path, status: 409, code: 'duplicate-name' });
      }
      expect(await walk(s.root)).toEqual(before);
    } finally {
      await s.close();
    }
  });

  it('a LOCK racing a PUT of the same name in another case locks the one member it made (no 409 duplicate-name)', async () => {
    const s = await startTestServer({ caseInsensitive: true });
    try {
      expect((await s.request('MKCOL', '/lr/')).status).toBe(201);
      for (let i = 0; i < 20; i++) {
        const [put, lock] = await Promise.all([
          s.request('PUT', `/lr/File${i}.txt`, { body: 'x'.repeat(64 * 1024) }),
          s.request('LOCK', `/LR/file${i}.txt`, {
            headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
            body: lockinfo('exclusive'),
          }),
        ]);
        expect({ i, lock: lock.status }).toEqual({ i, lock: expect.any(Number) });
        expect([200, 201]).toContain(lock.status);
        expect([201, 204, 423]).toContain(put.status);
      }
      expect((await readdir(join(s.root, 'lr'))).length).toBe(20);
    } finally {
      await s.close();
    }
  });

  it('MKCOL of the NFD spelling of an existing file is 405', async () => {
    const res = await t.request('MKCOL', NFD);
    expect(res.status).toBe(405);
    expect(codeOf(res)).toBe('already-exists');
    expect(await diskNames('d')).toEqual([NFC_NAME, 'r\u00e9sum\u00e9'].sort());
  });

  it('PUT of the NFD name onto an NFC collection is 405 is-a-collection', async () => {
    const res = await t.request('PUT', '/d/re%CC%81sume%CC%81', { body: 'x' });
    expect(res.status).toBe(405);
    expect(codeOf(res)).toBe('is-a-collection');
  });

  it('where two existing members already collide, a third spelling is 409 duplicate-name naming one (no guess)', async () => {
    await mkdir(join(t.root, 'both'));
    await writeFile(join(t.root, 'both', 'na\u00efve.txt'), 'nfc');
    await writeFile(join(t.root, 'both', 'nai\u0308ve.txt'), 'nfd');
    const before = await walk(t.root);
    // the exact names still address themselves
    expect((await t.request('GET', '/both/na%C3%AFve.txt')).text).toBe('nfc');
    const res = await t.request('MKCOL', '/both/NA%C3%AFVE.txt');
    expect(res.status).toBe(201); // case matters without --case-insensitive
    const s = await startTestServer({ caseInsensitive: true });
    try {
      await mkdir(join(s.root, 'both'));
      await writeFile(join(s.root, 'both', 'readme.txt'), 'a');
      await writeFile(join(s.root, 'both', 'README.txt'), 'b');
      const dup = await s.request('PUT', '/both/Readme.txt', { body: 'c' });
      expect(dup.status).toBe(409);
      expect(codeOf(dup)).toBe('duplicate-name');
      expect((await readdir(join(s.root, 'both'))).sort()).toEqual(['README.txt', 'readme.txt']);
    } finally {
      await s.close();
    }
    expect((await walk(t.root)).filter((e) => !e.includes('NA'))).toEqual(before);
  });

  it('COPY to the NFD name addresses the NFC member: Overwrite F is 412 and nothing changes', async () => {
    expect((await t.request('PUT', '/src.txt', { body: 'source' })).status).toBe(201);
    const before = await walk(t.root);
    const res = await t.request('COPY', '/src.txt', { headers: { Destination: dest(t, NFD), Overwrite: 'F' } });
    expect(res.status).toBe(412);
    expect(codeOf(res)).toBe('destination-exists');
    expect(await walk(t.root)).toEqual(before);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('precomposed');
  });

  it('COPY to the NFD name is subject to the member\'s lock: 423 without its token, 204 with it', async () => {
    const lock = await t.request('LOCK', NFC, {
      headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
      body: lockinfo('exclusive'),
    });
    expect(lock.status).toBe(200);
    const token = String(lock.headers['lock-token']).replace(/[<>]/g, '');
    const before = await walk(t.root);
    const locked = await t.request('COPY', '/src.txt', { headers: { Destination: dest(t, NFD) } });
    expect(locked.status).toBe(423);
    expect(codeOf(locked)).toBe('lock-token-submitted');
    expect(Object.values(conflictFields(locked)).some((v) => v.endsWith(NFC))).toBe(true);
    expect(await walk(t.root)).toEqual(before);
    const ok = await t.request('COPY', '/src.txt', { headers: { Destination: dest(t, NFD), If: `<${dest(t, NFC)}> (<${token}>)` } });
    expect(ok.status).toBe(204);
    expect(await t.request('UNLOCK', NFC, { headers: { 'Lock-Token': `<${token}>` } })).toMatchObject({ status: 204 });
    expect(await t.request('PUT', NFC, { body: 'precomposed' })).toMatchObject({ status: 204 });
  });

  it('COPY to the NFD name replaces the NFC member (204), keeps its stored name, and retains what it replaced', async () => {
    const res = await t.request('COPY', '/src.txt', { headers: { Destination: dest(t, NFD) } });
    expect(res.status).toBe(204);
    expect(hdr(res, 'location')).toMatch(new RegExp(`${NFC}$`));
    expect(await diskNames('d')).not.toContain(NFD_NAME);
    expect((await diskNames('d')).filter((n) => n.normalize('NFC') === NFC_NAME)).toEqual([NFC_NAME]);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('source');
    expect(await readFile(join(t.root, 'src.txt'), 'utf8')).toBe('source');
    const versions = JSON.parse((await t.request('GET', `${NFC}?versions`)).text) as { versions: Array<{ id: string }> };
    const replaced = await t.request('GET', `${NFC}?version=${versions.versions[0].id}`);
    expect(replaced.text).toBe('precomposed');
    expect((await t.request('PUT', NFC, { body: 'precomposed' })).status).toBe(204);
  });

  it('MOVE to the NFD name replaces the NFC member (204): the source goes, one name stays on disk', async () => {
    expect((await t.request('PUT', '/moving.txt', { body: 'moved here' })).status).toBe(201);
    const res = await t.request('MOVE', '/moving.txt', { headers: { Destination: dest(t, NFD) } });
    expect(res.status).toBe(204);
    expect(await t.request('GET', '/moving.txt')).toMatchObject({ status: 404 });
    expect((await diskNames('d')).filter((n) => n.normalize('NFC') === NFC_NAME)).toEqual([NFC_NAME]);
    expect(await readFile(join(t.root, 'd', NFC_NAME), 'utf8')).toBe('moved here');
    expect((await t.request('PUT', NFC, { body: 'precomposed' })).status).toBe(204);
  });

  it('MOVE of a member onto its own equivalent name is 403 same-source-and-destination, nothing changes', async () => {
    const before = await walk(t.root);
    const res = await t.request('MOVE', NFC, { headers: { Destination: dest(t, NFD) } });
    expect(res.status).toBe(403);
    expect(codeOf(res)).toBe('same-source-and-destination');
    expect(await walk(t.root)).toEqual(before);
  });

  it('COPY / MOVE of a collection to the NFD name of an existing collection replace it, under its stored name', async () => {
    expect((await t.request('MKCOL', '/coll')).status).toBe(201);
    expect((await t.request('PUT', '/coll/inside.txt', { body: 'inside' })).status).toBe(201);
    expect((await t.request('MKCOL', '/target')).status).toBe(201);
    expect((await t.request('MKCOL', '/target/r%C3%A9sum%C3%A9')).status).toBe(201);
    expect((await t.request('PUT', '/target/r%C3%A9sum%C3%A9/old.txt', { body: 'old' })).status).toBe(201);
    const copied = await t.request('COPY', '/coll/', { headers: { Destination: dest(t, '/target/re%CC%81sume%CC%81/') } });
    expect(copied.status).toBe(204);
    expect(await walk(join(t.root, 'target'))).toEqual(['r\u00e9sum\u00e9', 'r\u00e9sum\u00e9/inside.txt']);
    const moved = await t.request('MOVE', '/coll/', { headers: { Destination: dest(t, '/target/re%CC%81sume%CC%81/'), Overwrite: 'T' } });
    expect(moved.status).toBe(204);
    expect(await walk(join(t.root, 'target'))).toEqual(['r\u00e9sum\u00e9', 'r\u00e9sum\u00e9/inside.txt']);
    expect((await t.request('GET', '/coll/')).status).toBe(404);
  });

  it('COPY / MOVE to a name equivalent to two members that already collide is 409 duplicate-name, nothing changes', async () => {
    await mkdir(join(t.root, 'clash'));
    await writeFile(join(t.root, 'clash', 'r\u00e9sum\u00e9.txt'), 'nfc');
    await writeFile(join(t.root, 'clash', 're\u0301sume\u0301.txt'), 'nfd');
    const before = await walk(t.root);
    for (const method of ['COPY', 'MOVE']) {
      // a third spelling (one accent composed, one not): equivalent to both, equal to neither
      const res = await t.request(method, '/src.txt', { headers: { Destination: dest(t, '/clash/re%CC%81sum%C3%A9.txt') } });
      expect({ method, status: res.status, code: codeOf(res) }).toEqual({ method, status: 409, code: 'duplicate-name' });
    }
    expect(await walk(t.root)).toEqual(before);
  });

  it('LOCK of the NFD name locks the existing NFC member (a lookup, not a create): 200, nothing new on disk', async () => {
    const before = await walk(t.root);
    const res = await t.request('LOCK', NFD, {
      headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
      body: lockinfo('exclusive'),
    });
    expect(res.status).toBe(200);
    const token = String(res.headers['lock-token']).replace(/[<>]/g, '');
    expect(await walk(t.root)).toEqual(before);
    // The lock is on the NFC member: a write to it without the token is refused.
    const put = await t.request('PUT', NFC, { body: 'x' });
    expect(put.status).toBe(423);
    const unlock = await t.request('UNLOCK', NFC, { headers: { 'Lock-Token': `<${token}>` } });
    expect(unlock.status).toBe(204);
  });

  it('GET of the NFD name finds the NFC member', async () => {
    const get = await t.request('GET', NFD);
    expect(get.status).toBe(200);
    expect(get.text).toBe('precomposed');
    const nfc = await t.request('GET', NFC);
    expect(hdr(get, 'etag')).toBe(hdr(nfc, 'etag'));
    const head = await t.request('HEAD', NFD);
    expect(head.status).toBe(200);
  });

  it('PROPFIND Depth 0 of the NFD name finds the NFC member (207, its properties)', async () => {
    const res = await t.request('PROPFIND', NFD, {
      headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getetag/></D:prop></D:propfind>',
    });
    expect(res.status).toBe(207);
    const xml = res.xml();
    expect(findAll(xml, DAV, 'response').length).toBe(1);
    expect(text(xml, DAV, 'getcontentlength')).toBe('11');
    expect(text(xml, DAV, 'getetag')).toBe(hdr(await t.request('HEAD', NFC), 'etag'));
  });

  it('a nonexistent NFD name with no NFC member is 404 for GET and creatable by PUT', async () => {
    expect((await t.request('GET', '/d/nai%CC%88ve.txt')).status).toBe(404);
    const put = await t.request('PUT', '/d/nai%CC%88ve.txt', { body: 'decomposed only' });
    expect(put.status).toBe(201);
    // and now its NFC spelling addresses the NFD member: 204, still one name on disk (NFD)
    const again = await t.request('PUT', '/d/na%C3%AFve.txt', { body: 'precomposed' });
    expect(again.status).toBe(204);
    expect((await diskNames('d')).filter((n) => n.normalize('NFC') === 'na\u00efve.txt')).toEqual(['nai\u0308ve.txt']);
    expect(await readFile(join(t.root, 'd', 'nai\u0308ve.txt'), 'utf8')).toBe('precomposed');
  });
});

describe('equivalent names created concurrently', () => {
  it('two concurrent PUTs of the NFC and the NFD spelling never both create a file (20 rounds)', async () => {
    for (let i = 0; i < 20; i++) {
      const dir = `/race${i}`;
      expect((await t.request('MKCOL', dir)).status).toBe(201);
      const body = Buffer.alloc(256 * 1024, i);
      const [a, b] = await Promise.all([
        t.request('PUT', `${dir}/caf%C3%A9.txt`, { body }),
        t.request('PUT', `${dir}/cafe%CC%81.txt`, { body }),
      ]);
      const names = await readdir(join(t.root, dir.slice(1)));
      expect({ round: i, statuses: [a.status, b.status].sort(), files: names.length }).toEqual({ round: i, statuses: [201, 204], files: 1 });
    }
  });

  it('two concurrent MKCOLs of the NFC and the NFD spelling never both create a collection (20 rounds)', async () => {
    for (let i = 0; i < 20; i++) {
      const dir = `/mkrace${i}`;
      expect((await t.request('MKCOL', dir)).status).toBe(201);
      const [a, b] = await Promise.all([t.request('MKCOL', `${dir}/r%C3%A9sum%C3%A9`), t.request('MKCOL', `${dir}/re%CC%81sume%CC%81`)]);
      const names = await readdir(join(t.root, dir.slice(1)));
      expect({ round: i, statuses: [a.status, b.status].sort(), entries: names.length }).toEqual({ round: i, statuses: [201, 405], entries: 1 });
    }
  });
});

describe('case-insensitive shares', () => {
  it('with caseInsensitive: true, PUT /d/Readme.TXT after /d/readme.txt overwrites readme.txt (204); MKCOL onto it is 405', async () => {
    const s = await startTestServer({ caseInsensitive: true });
    try {
      expect((await s.request('MKCOL', '/d')).status).toBe(201);
      expect((await s.request('PUT', '/d/readme.txt', { body: 'lower' })).status).toBe(201);
      const res = await s.request('PUT', '/d/Readme.TXT', { body: 'mixed' });
      expect(res.status).toBe(204);
      expect((await readdir(join(s.root, 'd'))).sort()).toEqual(['readme.txt']);
      expect(await readFile(join(s.root, 'd', 'readme.txt'), 'utf8')).toBe('mixed');
      const mk = await s.request('MKCOL', '/d/README.txt');
      expect(mk.status).toBe(405);
      expect(codeOf(mk)).toBe('already-exists');
      // a lock on the member holds for every spelling
      const lock = await s.request('LOCK', '/d/readme.txt', {
        headers: { 'Content-Type': 'application/xml; charset=utf-8', Depth: '0' },
        body: lockinfo('exclusive'),
      });
      expect(lock.status).toBe(200);
      const locked = await s.request('PUT', '/d/README.TXT', { body: 'no token' });
      expect(locked.status).toBe(423);
      expect(Object.values(conflictFields(locked)).some((v) => v.endsWith('/d/readme.txt'))).toBe(true);
      expect(await readFile(join(s.root, 'd', 'readme.txt'), 'utf8')).toBe('mixed');
      // case folding combines with NFC
      expect((await s.request('PUT', '/d/%C3%89t%C3%A9.txt', { body: 'E' })).status).toBe(201);
      const both = await s.request('PUT', '/d/e%CC%81TE%CC%81.txt', { body: 'e' });
      expect(both.status).toBe(204);
      expect((await readdir(join(s.root, 'd'))).sort()).toEqual(['readme.txt', '\u00c9t\u00e9.txt'].sort());
    } finally {
      await s.close();
    }
  });

  it('with caseInsensitive: true, COPY and MOVE to /d/README.TXT replace /d/readme.txt under its stored name', async () => {
    const s = await startTestServer({ caseInsensitive: true });
    try {
      expect((await s.request('MKCOL', '/d')).status).toBe(201);
      expect((await s.request('PUT', '/d/readme.txt', { body: 'lower' })).status).toBe(201);
      expect((await s.request('PUT', '/copy.txt', { body: 'copied' })).status).toBe(201);
      expect((await s.request('COPY', '/copy.txt', { headers: { Destination: dest(s, '/d/README.TXT') } })).status).toBe(204);
      expect(await readdir(join(s.root, 'd'))).toEqual(['readme.txt']);
      expect(await readFile(join(s.root, 'd', 'readme.txt'), 'utf8')).toBe('copied');
      expect((await s.request('MOVE', '/copy.txt', { headers: { Destination: dest(s, '/d/ReadMe.txt') } })).status).toBe(204);
      expect(await readdir(join(s.root, 'd'))).toEqual(['readme.txt']);
      expect((await readdir(s.root)).filter((n) => !n.startsWith('.keepdav-'))).toEqual(['d']);
    } finally {
      await s.close();
    }
  });

  it('without it, PUT /d/Readme.TXT after /d/readme.txt is 201 (two files)', async () => {
    expect((await t.request('MKCOL', '/case')).status).toBe(201);
    expect((await t.request('PUT', '/case/readme.txt', { body: 'lower' })).status).toBe(201);
    expect((await t.request('PUT', '/case/Readme.TXT', { body: 'mixed' })).status).toBe(201);
    expect((await readdir(join(t.root, 'case'))).sort()).toEqual(['Readme.TXT', 'readme.txt']);
  });
});
