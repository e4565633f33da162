/**
 * Retained versions (semantics.md "Nothing is lost", README "Versions and conflicts"): what an
 * overwrite, a DELETE, or a COPY/MOVE onto an existing target replaces is kept under the state
 * directory, listed by GET ?versions (newest first), readable by GET ?version=ID, restorable by
 * POST ?restore=ID (itself a new version), within the retention limits, and across restarts;
 * never reachable by any other URL.
 */
import { readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { codeOf, filesBelow, hdr, listHrefs } from '../support/conflictKit';
import { dest, lockPath } from '../support/davHttpKit';
import { rawRequest } from '../support/rawHttp';

interface VersionEntry {
  id: string;
  retained: string;
  reason: string;
  size: number;
  etag: string;
  lastModified?: string;
}

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

async function versionsOf(server: TestServer, path: string): Promise<VersionEntry[]> {
  const res = await server.request('GET', `${path}?versions`);
  expect(res.status).toBe(200);
  expect(hdr(res, 'content-type')).toMatch(/^application\/json/);
  const json = JSON.parse(res.text) as { versions: VersionEntry[] };
  expect(Array.isArray(json.versions)).toBe(true);
  for (const v of json.versions) {
    expect(typeof v.id).toBe('string');
    expect(v.id.length).toBeGreaterThan(8);
    expect(new Date(v.retained).toISOString()).toBe(v.retained);
    expect(typeof v.size).toBe('number');
    expect(v.etag).toMatch(/^"[^"]+"$/);
  }
  return json.versions;
}

async function put(server: TestServer, path: string, body: string): Promise<string> {
  const res = await server.request('PUT', path, { body });
  expect([201, 204]).toContain(res.status);
  return hdr(res, 'etag')!;
}

async function versionBytes(server: TestServer, path: string, id: string): Promise<string> {
  const res = await server.request('GET', `${path}?version=${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  return res.text;
}

describe('an overwrite', () => {
  it('is retained: ?versions lists them newest first with id, retained, reason, size, etag; ?version=ID gives the bytes', async () => {
    const e1 = await put(t, '/o.txt', 'one');
    const e2 = await put(t, '/o.txt', 'two22');
    const e3 = await put(t, '/o.txt', 'three333');
    const vs = await versionsOf(t, '/o.txt');
    expect(vs.map((v) => [v.reason, v.size, v.etag])).toEqual([
      ['overwrite', 5, e2],
      ['overwrite', 3, e1],
    ]);
    expect(new Set(vs.map((v) => v.id)).size).toBe(2);
    expect(Date.parse(vs[0].retained)).toBeGreaterThanOrEqual(Date.parse(vs[1].retained));
    expect(await versionBytes(t, '/o.txt', vs[0].id)).toBe('two22');
    expect(await versionBytes(t, '/o.txt', vs[1].id)).toBe('one');
    const one = await t.request('GET', `/o.txt?version=${vs[1].id}`);
    expect(hdr(one, 'etag')).toBe(e1);
    // the current file is untouched by reading versions
    expect(await readFile(join(t.root, 'o.txt'), 'utf8')).toBe('three333');
    expect(hdr(await t.request('HEAD', '/o.txt'), 'etag')).toBe(e3);
  });

  it('a restore brings the bytes back (204), is itself a new version, and can be undone', async () => {
    const vs = await versionsOf(t, '/o.txt');
    const oneId = vs.find((v) => v.size === 3)!.id;
    const before = hdr(await t.request('HEAD', '/o.txt'), 'etag');
    const res = await t.request('POST', `/o.txt?restore=${oneId}`);
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'o.txt'), 'utf8')).toBe('one');
    const newEtag = hdr(res, 'etag');
    expect(newEtag).toMatch(/^"[^"]+"$/);
    expect(newEtag).not.toBe(before);
    expect(hdr(await t.request('GET', '/o.txt'), 'etag')).toBe(newEtag);

    const after = await versionsOf(t, '/o.txt');
    expect(after.length).toBe(3);
    expect(after[0].reason).toBe('restore');
    expect(after[0].size).toBe(8);
    expect(after[0].etag).toBe(before);
    expect(await versionBytes(t, '/o.txt', after[0].id)).toBe('three333');

    // undo the restore
    const undo = await t.request('POST', `/o.txt?restore=${after[0].id}`);
    expect(undo.status).toBe(204);
    expect(await readFile(join(t.root, 'o.txt'), 'utf8')).toBe('three333');
    const again = await versionsOf(t, '/o.txt');
    expect(again.length).toBe(4);
    expect(again[0].reason).toBe('restore');
    expect(await versionBytes(t, '/o.txt', again[0].id)).toBe('one');
  });

  it('the retained bytes live under the state directory, outside the root', async () => {
    const rootReal = await realpath(t.root);
    const stateReal = await realpath(t.stateDir);
    const rel = relative(rootReal, stateReal);
    expect(rel.startsWith('..') || isAbsolute(rel)).toBe(true);
    const files = await filesBelow(t.stateDir);
    const contents = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')));
    expect(contents).toContain('two22');
    expect(contents).toContain('one');
  });
});

describe('a DELETE', () => {
  it('of a file is retained; a restore recreates it (201)', async () => {
    const etag = await put(t, '/gone.txt', 'bytes before delete');
    expect((await t.request('DELETE', '/gone.txt')).status).toBe(204);
    expect((await t.request('GET', '/gone.txt')).status).toBe(404);
    const vs = await versionsOf(t, '/gone.txt');
    expect(vs.length).toBe(1);
    expect(vs[0]).toMatchObject({ reason: 'delete', size: 19, etag });
    expect(await versionBytes(t, '/gone.txt', vs[0].id)).toBe('bytes before delete');
    const res = await t.request('POST', `/gone.txt?restore=${vs[0].id}`);
    expect(res.status).toBe(201);
    expect(await readFile(join(t.root, 'gone.txt'), 'utf8')).toBe('bytes before delete');
    expect((await t.request('GET', '/gone.txt')).text).toBe('bytes before delete');
  });

  it('of a tree retains every nested file; they restore once their collections exist again', async () => {
    expect((await t.request('MKCOL', '/tree')).status).toBe(201);
    expect((await t.request('MKCOL', '/tree/sub')).status).toBe(201);
    expect((await t.request('MKCOL', '/tree/sub/deeper')).status).toBe(201);
    const ea = await put(t, '/tree/a.txt', 'file a');
    const eb = await put(t, '/tree/sub/b.txt', 'file bb');
    const ec = await put(t, '/tree/sub/deeper/c.txt', 'file ccc');
    expect((await t.request('DELETE', '/tree/')).status).toBe(204);
    expect((await t.request('PROPFIND', '/tree/', { headers: { Depth: '0' } })).status).toBe(404);

    const a = await versionsOf(t, '/tree/a.txt');
    const b = await versionsOf(t, '/tree/sub/b.txt');
    const c = await versionsOf(t, '/tree/sub/deeper/c.txt');
    expect(a.map((v) => [v.reason, v.size, v.etag])).toEqual([['delete', 6, ea]]);
    expect(b.map((v) => [v.reason, v.size, v.etag])).toEqual([['delete', 7, eb]]);
    expect(c.map((v) => [v.reason, v.size, v.etag])).toEqual([['delete', 8, ec]]);
    expect(await versionBytes(t, '/tree/sub/deeper/c.txt', c[0].id)).toBe('file ccc');

    // without its collection the restore cannot land: 409 parent-missing, nothing created
    const early = await t.request('POST', `/tree/sub/b.txt?restore=${b[0].id}`);
    expect(early.status).toBe(409);
    expect(codeOf(early)).toBe('parent-missing');

    expect((await t.request('MKCOL', '/tree')).status).toBe(201);
    expect((await t.request('MKCOL', '/tree/sub')).status).toBe(201);
    const res = await t.request('POST', `/tree/sub/b.txt?restore=${b[0].id}`);
    expect(res.status).toBe(201);
    expect(await readFile(join(t.root, 'tree', 'sub', 'b.txt'), 'utf8')).toBe('file bb');
    expect((await t.request('POST', `/tree/a.txt?restore=${a[0].id}`)).status).toBe(201);
    expect(await readFile(join(t.root, 'tree', 'a.txt'), 'utf8')).toBe('file a');
  });
});

describe('COPY and MOVE onto an existing target', () => {
  it('COPY retains what it replaced', async () => {
    await put(t, '/cs.txt', 'copy source');
    const old = await put(t, '/cd.txt', 'copy target before');
    const res = await t.request('COPY', '/cs.txt', { headers: { Destination: dest(t, '/cd.txt') } });
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'cd.txt'), 'utf8')).toBe('copy source');
    const vs = await versionsOf(t, '/cd.txt');
    expect(vs.length).toBe(1);
    expect(vs[0].etag).toBe(old);
    expect(vs[0].size).toBe(18);
    expect(vs[0].reason).toBe('overwrite');
    expect(await versionBytes(t, '/cd.txt', vs[0].id)).toBe('copy target before');
    expect((await t.request('POST', `/cd.txt?restore=${vs[0].id}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'cd.txt'), 'utf8')).toBe('copy target before');
  });

  it('MOVE retains what it replaced', async () => {
    await put(t, '/ms.txt', 'move source');
    const old = await put(t, '/md.txt', 'move target before');
    const res = await t.request('MOVE', '/ms.txt', { headers: { Destination: dest(t, '/md.txt') } });
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'md.txt'), 'utf8')).toBe('move source');
    const vs = await versionsOf(t, '/md.txt');
    expect(vs.length).toBe(1);
    expect(vs[0].etag).toBe(old);
    expect(vs[0].reason).toBe('overwrite');
    expect(await versionBytes(t, '/md.txt', vs[0].id)).toBe('move target before');
  });

  it('COPY of a collection onto an existing collection retains the replaced files', async () => {
    expect((await t.request('MKCOL', '/csrc')).status).toBe(201);
    await put(t, '/csrc/x.txt', 'new x');
    expect((await t.request('MKCOL', '/cdst')).status).toBe(201);
    await put(t, '/cdst/x.txt', 'old x');
    await put(t, '/cdst/only-old.txt', 'only in old');
    const res = await t.request('COPY', '/csrc/', { headers: { Destination: dest(t, '/cdst/') } });
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'cdst', 'x.txt'), 'utf8')).toBe('new x');
    const vx = await versionsOf(t, '/cdst/x.txt');
    expect(vx.length).toBe(1);
    expect(await versionBytes(t, '/cdst/x.txt', vx[0].id)).toBe('old x');
    const vo = await versionsOf(t, '/cdst/only-old.txt');
    expect(vo.length).toBe(1);
    expect(await versionBytes(t, '/cdst/only-old.txt', vo[0].id)).toBe('only in old');
  });
});

describe('versions by an equivalent name', () => {
  // Finder sends NFD names; a name equivalent to a member's addresses that member (README, duplicate-name).
  const NFC = '/Zo%C3%AB.txt';
  const NFD = '/Zoe%CC%88.txt';
  it('?versions, ?version= and ?restore= of the NFD spelling are the NFC file\'s, and a restore there replaces it, making no second name', async () => {
    await put(t, NFC, 'first');
    await put(t, NFC, 'second');
    const own = await versionsOf(t, NFC);
    expect(own).toHaveLength(1);
    expect((await versionsOf(t, NFD)).map((v) => v.id)).toEqual(own.map((v) => v.id));
    expect(await versionBytes(t, NFD, own[0].id)).toBe('first');
    expect((await t.request('POST', `${NFD}?restore=${own[0].id}`)).status).toBe(204);
    expect((await t.request('GET', NFC)).text).toBe('first');
    const elsewhere = await t.request('POST', `${NFC}?restore=${own[0].id}`, { headers: { Destination: NFD, Overwrite: 'T' } });
    expect(elsewhere.status).toBe(204);
    expect(elsewhere.headers.location).toBeUndefined();
    expect((await readdir(t.root)).filter((n) => n.startsWith('Zo'))).toEqual(['Zo\u00eb.txt']);
  });

  it('Overwrite: F is 412 at the version\'s own path too, when a file is there', async () => {
    await put(t, '/keepme.txt', 'one');
    await put(t, '/keepme.txt', 'two');
    const [v] = await versionsOf(t, '/keepme.txt');
    const res = await t.request('POST', `/keepme.txt?restore=${v.id}`, { headers: { Overwrite: 'F' } });
    expect([res.status, codeOf(res)]).toEqual([412, 'destination-exists']);
    expect(await readFile(join(t.root, 'keepme.txt'), 'utf8')).toBe('two');
  });
});

describe('version access errors', () => {
  it('POST without ?restore is 405 method-not-allowed', async () => {
    await put(t, '/p.txt', 'p');
    const res = await t.request('POST', '/p.txt', { body: 'x' });
    expect(res.status).toBe(405);
    expect(codeOf(res)).toBe('method-not-allowed');
    expect(hdr(res, 'allow')).toBeTruthy();
    expect(await readFile(join(t.root, 'p.txt'), 'utf8')).toBe('p');
  });

  it('an unknown version id is 404 for GET ?version and POST ?restore', async () => {
    await put(t, '/p.txt', 'p2');
    expect((await t.request('GET', '/p.txt?version=ffffffff0000000000000000')).status).toBe(404);
    const res = await t.request('POST', '/p.txt?restore=ffffffff0000000000000000');
    expect(res.status).toBe(404);
    expect(codeOf(res)).toBe('not-found');
    expect(await readFile(join(t.root, 'p.txt'), 'utf8')).toBe('p2');
  });

  it('a version id of another path is 404 on this path (for GET and POST)', async () => {
    const vs = await versionsOf(t, '/o.txt');
    expect((await t.request('GET', `/p.txt?version=${vs[0].id}`)).status).toBe(404);
    expect((await t.request('POST', `/p.txt?restore=${vs[0].id}`)).status).toBe(404);
    expect(await readFile(join(t.root, 'p.txt'), 'utf8')).toBe('p2');
  });

  it('?versions of a path that never had any is an empty list', async () => {
    expect(await versionsOf(t, '/never-existed.txt')).toEqual([]);
  });

  it('restoring a locked file without its token is 423; with it, 204', async () => {
    await put(t, '/lk.txt', 'first');
    await put(t, '/lk.txt', 'second');
    const [v] = await versionsOf(t, '/lk.txt');
    const { token } = await lockPath(t, '/lk.txt', { depth: '0' });
    const denied = await t.request('POST', `/lk.txt?restore=${v.id}`);
    expect(denied.status).toBe(423);
    expect(codeOf(denied)).toBe('lock-token-submitted');
    expect(await readFile(join(t.root, 'lk.txt'), 'utf8')).toBe('second');
    const ok = await t.request('POST', `/lk.txt?restore=${v.id}`, { headers: { If: `(<${token}>)` } });
    expect(ok.status).toBe(204);
    expect(await readFile(join(t.root, 'lk.txt'), 'utf8')).toBe('first');
    await t.request('UNLOCK', '/lk.txt', { headers: { 'Lock-Token': `<${token}>` } });
  });

  it('restoring inside a locked collection without the token is 423', async () => {
    expect((await t.request('MKCOL', '/lockdir')).status).toBe(201);
    await put(t, '/lockdir/f.txt', 'v1');
    await put(t, '/lockdir/f.txt', 'v2');
    const [v] = await versionsOf(t, '/lockdir/f.txt');
    const { token } = await lockPath(t, '/lockdir/', { depth: 'infinity' });
    expect((await t.request('POST', `/lockdir/f.txt?restore=${v.id}`)).status).toBe(423);
    expect(await readFile(join(t.root, 'lockdir', 'f.txt'), 'utf8')).toBe('v2');
    await t.request('UNLOCK', '/lockdir/', { headers: { 'Lock-Token': `<${token}>` } });
  });
});

describe('retained bytes are never reachable by URL', () => {
  it('no .keepdav- name and no path to the state directory serves anything', async () => {
    const stateName = t.stateDir.split('/').pop()!;
    const retainedFiles = await filesBelow(join(t.stateDir, 'retained'));
    expect(retainedFiles.length).toBeGreaterThan(0);
    const someRetained = relative(t.stateDir, retainedFiles[0]);
    const probes = [
      '/.keepdav-state',
      '/.keepdav-state/keepdav.sqlite',
      '/.keepdav-tmp-0000000000000000',
      '/.keepdav-retained',
      `/../${stateName}/keepdav.sqlite`,
      `/../${stateName}/${someRetained}`,
      `/%2e%2e/${stateName}/${someRetained}`,
      `/..%2f${stateName}/${someRetained}`,
    ];
    for (const p of probes) {
      const raw = await rawRequest(t.port, `GET ${p} HTTP/1.1`);
      expect({ p, ok: raw.status >= 200 && raw.status < 300 }).toEqual({ p, ok: false });
    }
    expect((await t.request('PUT', '/.keepdav-mine', { body: 'x' })).status).toBe(403);
    const hrefs = await listHrefs(t, '/');
    expect(hrefs.filter((h) => h.includes('.keepdav-'))).toEqual([]);
  });
});

describe('retention limits', () => {
  it('maxVersionsPerPath: 2 keeps only the newest 2 after 4 overwrites (and frees the others\' bytes)', async () => {
    const s = await startTestServer({ retention: { maxVersionsPerPath: 2 } });
    try {
      const tags = [];
      for (const body of ['v0', 'v1-', 'v2--', 'v3---', 'v4----']) tags.push(await put(s, '/f.txt', body));
      const vs = await versionsOf(s, '/f.txt');
      expect(vs.map((v) => v.etag)).toEqual([tags[3], tags[2]]);
      expect(await versionBytes(s, '/f.txt', vs[0].id)).toBe('v3---');
      expect(await versionBytes(s, '/f.txt', vs[1].id)).toBe('v2--');
      const kept = await Promise.all((await filesBelow(join(s.stateDir, 'retained'))).map((f) => readFile(f, 'utf8')));
      expect(kept.sort()).toEqual(['v2--', 'v3---']);
    } finally {
      await s.close();
    }
  });

  it('maxVersionsPerPath: 2 also holds for files inside a deleted tree', async () => {
    const s = await startTestServer({ retention: { maxVersionsPerPath: 2 } });
    try {
      expect((await s.request('MKCOL', '/d')).status).toBe(201);
      for (const body of ['n0', 'n1', 'n2', 'n3']) await put(s, '/d/f.txt', body);
      expect((await versionsOf(s, '/d/f.txt')).length).toBe(2);
      expect((await s.request('DELETE', '/d/')).status).toBe(204);
      const vs = await versionsOf(s, '/d/f.txt');
      expect(vs.map((v) => v.reason)).toEqual(['delete', 'overwrite']);
      expect(await versionBytes(s, '/d/f.txt', vs[0].id)).toBe('n3');
      expect(await versionBytes(s, '/d/f.txt', vs[1].id)).toBe('n2');
    } finally {
      await s.close();
    }
  });

  it('maxBytes bounds the total size of retained versions (oldest go first)', async () => {
    const s = await startTestServer({ retention: { maxBytes: 250 } });
    try {
      for (let i = 0; i < 6; i++) await put(s, '/big.txt', String(i).repeat(100));
      const vs = await versionsOf(s, '/big.txt');
      expect(vs.reduce((n, v) => n + v.size, 0)).toBeLessThanOrEqual(250);
      expect(vs.length).toBeGreaterThan(0);
      expect(await versionBytes(s, '/big.txt', vs[0].id)).toBe('4'.repeat(100));
    } finally {
      await s.close();
    }
  });

  it('maxVersionsPerPath: 0 keeps none, and overwrite and DELETE still work', async () => {
    const s = await startTestServer({ retention: { maxVersionsPerPath: 0 } });
    try {
      await put(s, '/f.txt', 'a');
      await put(s, '/f.txt', 'bb');
      expect(await versionsOf(s, '/f.txt')).toEqual([]);
      expect((await s.request('DELETE', '/f.txt')).status).toBe(204);
      await expect(stat(join(s.root, 'f.txt'))).rejects.toThrow();
      expect(await versionsOf(s, '/f.txt')).toEqual([]);
      expect((await s.request('MKCOL', '/d')).status).toBe(201);
      await put(s, '/d/x.txt', 'x');
      expect((await s.request('DELETE', '/d/')).status).toBe(204);
      await expect(stat(join(s.root, 'd'))).rejects.toThrow();
      expect(await filesBelow(join(s.stateDir, 'retained'))).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('versions survive a restart', () => {
  it('the same list and bytes after t.restart(), and a restore still works', async () => {
    await put(t, '/keep.txt', 'keep 1');
    await put(t, '/keep.txt', 'keep 2');
    await put(t, '/keep.txt', 'keep 3');
    const before = await versionsOf(t, '/keep.txt');
    expect(before.length).toBe(2);
    await t.restart();
    const after = await versionsOf(t, '/keep.txt');
    expect(after).toEqual(before);
    expect(await versionBytes(t, '/keep.txt', after[1].id)).toBe('keep 1');
    expect((await t.request('POST', `/keep.txt?restore=${after[1].id}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'keep.txt'), 'utf8')).toBe('keep 1');
  });

  it('a file changed behind the server\'s back is retained with its own bytes on the next overwrite', async () => {
    await put(t, '/behind.txt', 'through the server');
    await writeFile(join(t.root, 'behind.txt'), 'written directly on disk');
    await put(t, '/behind.txt', 'after');
    const vs = await versionsOf(t, '/behind.txt');
    expect(await versionBytes(t, '/behind.txt', vs[0].id)).toBe('written directly on disk');
  });
});
