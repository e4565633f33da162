/**
 * The trash and restores to any path (README "Nothing is lost"): GET /dir/?trash lists what was
 * deleted at or below /dir/ (stable JSON), POST ?restore=ID brings a deleted file back at its old
 * path or, with Destination or ?to=, at another (409 parent-missing, 412 destination-exists with
 * Overwrite: F, 423 when locked), a restore is itself undoable; versions follow their file through
 * MOVE; an overwrite through a symlink keeps the real bytes; `keepdav trash` and `restore --to`.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { codeOf, hdr } from '../support/conflictKit';
import { dest, lockPath } from '../support/davHttpKit';
import { main } from '../../src/cli';

interface TrashEntry {
  href: string;
  path: string;
  name: string;
  deletedAt: string;
  size: number;
  etag: string;
  lastModified: string;
  reason: string;
  versionId: string;
  versions: string[];
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

async function put(path: string, body: string): Promise<string> {
  const res = await t.request('PUT', path, { body });
  expect([201, 204]).toContain(res.status);
  return hdr(res, 'etag')!;
}

async function trashOf(path: string): Promise<{ href: string; path: string; deleted: TrashEntry[] }> {
  const res = await t.request('GET', `${path}?trash`);
  expect(res.status).toBe(200);
  expect(hdr(res, 'content-type')).toMatch(/^application\/json/);
  return JSON.parse(res.text);
}

async function versionIds(path: string): Promise<string[]> {
  const res = await t.request('GET', `${path}?versions`);
  expect(res.status).toBe(200);
  return (JSON.parse(res.text) as { versions: Array<{ id: string }> }).versions.map((v) => v.id);
}

async function versionText(path: string, id: string): Promise<string> {
  const res = await t.request('GET', `${path}?version=${id}`);
  expect(res.status).toBe(200);
  return res.text;
}

describe('GET ?trash', () => {
  it('lists every file deleted at or below a collection, newest deletion first, with its versions', async () => {
    expect((await t.request('MKCOL', '/t1')).status).toBe(201);
    expect((await t.request('MKCOL', '/t1/sub')).status).toBe(201);
    const eA1 = await put('/t1/a.txt', 'a-one');
    const eA2 = await put('/t1/a.txt', 'a-two!');
    await put('/t1/sub/b%20c.txt', 'bee');
    await put('/t1/keep.txt', 'stays');
    expect((await t.request('DELETE', '/t1/a.txt')).status).toBe(204);
    expect((await t.request('DELETE', '/t1/sub')).status).toBe(204);

    const trash = await trashOf('/t1/');
    expect(trash.href).toBe('/t1/');
    expect(trash.path).toBe('/t1');
    expect(trash.deleted.map((e) => e.path)).toEqual(['/t1/sub/b c.txt', '/t1/a.txt']);
    const [b, a] = trash.deleted;
    expect(b).toMatchObject({ href: '/t1/sub/b%20c.txt', name: 'b c.txt', size: 3, reason: 'delete' });
    expect(a).toMatchObject({ href: '/t1/a.txt', name: 'a.txt', size: 6, etag: eA2, reason: 'delete' });
    expect(new Date(a.deletedAt).toISOString()).toBe(a.deletedAt);
    expect(a.versions).toHaveLength(2);
    expect(a.versions[0]).toBe(a.versionId);
    expect(await versionText('/t1/a.txt', a.versions[0])).toBe('a-two!');
    expect(await versionText('/t1/a.txt', a.versions[1])).toBe('a-one');
    expect((await versionIds('/t1/a.txt'))[1]).toBe(a.versions[1]);
    expect(eA1).not.toBe(eA2);

    // Below a deleted collection, and from the root.
    expect((await trashOf('/t1/sub/')).deleted.map((e) => e.path)).toEqual(['/t1/sub/b c.txt']);
    expect((await trashOf('/')).deleted.map((e) => e.path)).toEqual(expect.arrayContaining(['/t1/a.txt', '/t1/sub/b c.txt']));
  });

  it('comes in pages of ?limit entries, each naming the next, which together are the whole list', async () => {
    expect((await t.request('MKCOL', '/t3')).status).toBe(201);
    await put('/t3/kept.txt', 'one');
    for (let i = 0; i < 7; i++) await put(`/t3/f${i}.txt`, `file ${i}`);
    for (let i = 0; i < 7; i += 2) expect((await t.request('DELETE', `/t3/f${i}.txt`)).status).toBe(204);
    await put('/t3/kept.txt', 'two'); // versions, but not deleted: never listed
    for (let i = 1; i < 7; i += 2) expect((await t.request('DELETE', `/t3/f${i}.txt`)).status).toBe(204);
    const whole = await trashOf('/t3/');
    expect(whole.deleted.map((e) => e.path).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `/t3/f${i}.txt`));
    expect(whole).not.toHaveProperty('next');

    const paged: TrashEntry[] = [];
    let url: string | undefined = '/t3/?trash&limit=2';
    for (let pages = 0; url; pages++) {
      expect(pages).toBeLessThan(4);
      const res = await t.request('GET', url);
      expect(res.status).toBe(200);
      const page = JSON.parse(res.text) as { href: string; deleted: TrashEntry[]; next?: string };
      expect(page.href).toBe('/t3/');
      expect(page.deleted.length).toBe(page.next ? 2 : 1);
      paged.push(...page.deleted);
      url = page.next;
    }
    expect(paged).toEqual(whole.deleted);

    for (const bad of ['limit=0', 'limit=10001', 'limit=two', 'limit=', 'after=yesterday', 'after=12:no-slash']) {
      const res = await t.request('GET', `/t3/?trash&${bad}`);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
  });

  it('does not list a file that exists again, and refuses ?trash on a file with 400', async () => {
    await put('/t2.txt', 'x');
    expect((await t.request('DELETE', '/t2.txt')).status).toBe(204);
    expect((await trashOf('/')).deleted.some((e) => e.path === '/t2.txt')).toBe(true);
    await put('/t2.txt', 'back');
    expect((await trashOf('/')).deleted.some((e) => e.path === '/t2.txt')).toBe(false);
    const res = await t.request('GET', '/t2.txt?trash');
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('bad-request');
  });
});

describe('restoring a deleted file', () => {
  it('at its old path: 409 parent-missing while its collection is gone, then 201; the restore is undoable', async () => {
    expect((await t.request('MKCOL', '/r1')).status).toBe(201);
    await put('/r1/doc.txt', 'original');
    expect((await t.request('DELETE', '/r1')).status).toBe(204);
    const [entry] = (await trashOf('/r1/')).deleted;
    const missing = await t.request('POST', `/r1/doc.txt?restore=${entry.versionId}`);
    expect(missing.status).toBe(409);
    expect(codeOf(missing)).toBe('parent-missing');
    expect((await t.request('MKCOL', '/r1')).status).toBe(201);
    const restored = await t.request('POST', `/r1/doc.txt?restore=${entry.versionId}`);
    expect(restored.status).toBe(201);
    expect(await readFile(join(t.root, 'r1', 'doc.txt'), 'utf8')).toBe('original');
    expect((await trashOf('/r1/')).deleted).toEqual([]);

    await put('/r1/doc.txt', 'edited');
    const ids = await versionIds('/r1/doc.txt');
    const again = await t.request('POST', `/r1/doc.txt?restore=${entry.versionId}`);
    expect(again.status).toBe(204);
    const after = await versionIds('/r1/doc.txt');
    expect(after.length).toBe(ids.length + 1);
    expect(await versionText('/r1/doc.txt', after[0])).toBe('edited');
  });

  it('at a new path, by Destination or ?to=: 201 with Location; 412 with Overwrite: F; 409 and 423 as elsewhere', async () => {
    await put('/n1.txt', 'first');
    expect((await t.request('DELETE', '/n1.txt')).status).toBe(204);
    const id = (await trashOf('/')).deleted.find((e) => e.path === '/n1.txt')!.versionId;

    const byHeader = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: dest(t, '/n1-copy.txt') } });
    expect(byHeader.status).toBe(201);
    expect(hdr(byHeader, 'location')).toBe('/n1-copy.txt');
    expect(await readFile(join(t.root, 'n1-copy.txt'), 'utf8')).toBe('first');

    const byQuery = await t.request('POST', `/n1.txt?restore=${id}&to=${encodeURIComponent('/n1%20two.txt')}`);
    expect(byQuery.status).toBe(201);
    expect(await readFile(join(t.root, 'n1 two.txt'), 'utf8')).toBe('first');

    const refused = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: '/n1-copy.txt', Overwrite: 'F' } });
    expect(refused.status).toBe(412);
    expect(codeOf(refused)).toBe('destination-exists');

    await put('/n1-copy.txt', 'changed');
    const over = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: '/n1-copy.txt' } });
    expect(over.status).toBe(204);
    expect(await readFile(join(t.root, 'n1-copy.txt'), 'utf8')).toBe('first');
    const kept = await versionIds('/n1-copy.txt');
    expect(await versionText('/n1-copy.txt', kept[0])).toBe('changed');

    const noParent = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: '/nowhere/n1.txt' } });
    expect(noParent.status).toBe(409);
    expect(codeOf(noParent)).toBe('parent-missing');

    const { token } = await lockPath(t, '/n1-copy.txt');
    const locked = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: '/n1-copy.txt' } });
    expect(locked.status).toBe(423);
    expect(codeOf(locked)).toBe('lock-token-submitted');
    const withToken = await t.request('POST', `/n1.txt?restore=${id}`, { headers: { Destination: '/n1-copy.txt', If: `(<${token}>)` } });
    expect(withToken.status).toBe(204);

    const both = await t.request('POST', `/n1.txt?restore=${id}&to=/x.txt`, { headers: { Destination: '/y.txt' } });
    expect(both.status).toBe(400);
    const unknown = await t.request('POST', `/n1.txt?restore=00000000deadbeefdeadbeef`, { headers: { Destination: '/z.txt' } });
    expect(unknown.status).toBe(404);
    expect(await readdir(t.root)).not.toContain('z.txt');
  });
});

describe('names WebDAV cannot address, inside a deleted or replaced tree', () => {
  // A backslash is an ordinary character of a Linux name, but no URL keepdav serves (400): a local
  // program may still put such a file in a folder that a client then deletes or replaces.
  it('go into the trash with the rest: DELETE and an overwriting COPY answer 204, every file stays recoverable, and the server starts again', async () => {
    await mkdir(join(t.root, 'bs', 'sub\\dir'), { recursive: true });
    await put('/bs/report.txt', 'report');
    await writeFile(join(t.root, 'bs', 'a\\b'), 'backslash');
    await writeFile(join(t.root, 'bs', 'sub\\dir', 'inner.txt'), 'inner');
    expect((await t.request('DELETE', '/bs/')).status).toBe(204);
    expect((await readdir(t.root)).includes('bs')).toBe(false);
    const deleted = (await trashOf('/bs/')).deleted.map((e) => e.path).sort();
    expect(deleted).toEqual(['/bs/a\\b', '/bs/report.txt', '/bs/sub\\dir/inner.txt']);
    const report = (await trashOf('/bs/')).deleted.find((e) => e.path === '/bs/report.txt')!;
    expect((await t.request('GET', `/bs/report.txt?version=${report.versionId}`)).text).toBe('report');

    await mkdir(join(t.root, 'target'));
    await writeFile(join(t.root, 'target', 'c\\d'), 'old backslash');
    await put('/target/important.txt', 'important');
    await put('/source.txt', 'source');
    expect((await t.request('COPY', '/source.txt', { headers: { Destination: dest(t, '/target'), Overwrite: 'T' } })).status).toBe(204);
    expect(await readFile(join(t.root, 'target'), 'utf8')).toBe('source');
    const replaced = (await trashOf('/')).deleted.map((e) => e.path).filter((p) => p.startsWith('/target/')).sort();
    expect(replaced).toEqual(['/target/c\\d', '/target/important.txt']);

    await t.restart();
    expect((await t.request('GET', '/source.txt')).text).toBe('source');
    expect((await trashOf('/bs/')).deleted).toHaveLength(3);
  });
});

describe('dead properties', () => {
  const TAG = (value: string) =>
    `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:tag>${value}</Z:tag></D:prop></D:set></D:propertyupdate>`;
  const tagOf = async (path: string): Promise<string | null> => {
    const res = await t.request('PROPFIND', path, { headers: { Depth: '0' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:tag/></D:prop></D:propfind>' });
    // A property found has its value in a 200 propstat; a missing one is an empty element in a 404 one.
    const found = /<(\w+):tag xmlns:\1="urn:z">([^<]*)<\/\1:tag><\/D:prop><D:status>HTTP\/1.1 200/.exec(res.text);
    return found ? found[2] : null;
  };

  it('of a deleted file come back with its restore, also from inside a deleted folder', async () => {
    await mkdir(join(t.root, 'tagged'));
    await put('/tagged/a.txt', 'a');
    expect((await t.request('PROPPATCH', '/tagged/a.txt', { headers: { 'Content-Type': 'application/xml' }, body: TAG('red') })).status).toBe(207);
    expect(await tagOf('/tagged/a.txt')).toBe('red');
    expect((await t.request('DELETE', '/tagged/')).status).toBe(204);
    const [entry] = (await trashOf('/tagged/')).deleted;
    expect((await t.request('MKCOL', '/tagged/')).status).toBe(201);
    expect((await t.request('POST', `/tagged/a.txt?restore=${entry.versionId}`)).status).toBe(201);
    expect(await tagOf('/tagged/a.txt')).toBe('red');
  });

  it('of a file a COPY replaced come back with the replaced version', async () => {
    await put('/target-tagged.txt', 'old');
    expect((await t.request('PROPPATCH', '/target-tagged.txt', { headers: { 'Content-Type': 'application/xml' }, body: TAG('blue') })).status).toBe(207);
    await put('/plain-source.txt', 'new');
    expect((await t.request('COPY', '/plain-source.txt', { headers: { Destination: dest(t, '/target-tagged.txt') } })).status).toBe(204);
    expect(await tagOf('/target-tagged.txt')).toBeNull();
    const [old] = await versionIds('/target-tagged.txt');
    expect((await t.request('POST', `/target-tagged.txt?restore=${old}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'target-tagged.txt'), 'utf8')).toBe('old');
    expect(await tagOf('/target-tagged.txt')).toBe('blue');
  });
});

describe('dead properties and restores', () => {
  const set = (path: string, props: string) =>
    t.request('PROPPATCH', path, { headers: { 'Content-Type': 'application/xml' }, body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>${props}</D:prop></D:set></D:propertyupdate>` });
  const propsOf = async (path: string): Promise<Record<string, string>> => {
    const res = await t.request('PROPFIND', path, { headers: { Depth: '0' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:note/><Z:other/></D:prop></D:propfind>' });
    const ok = /<D:propstat><D:prop>(.*?)<\/D:prop><D:status>HTTP\/1.1 200/s.exec(res.text)?.[1] ?? '';
    return Object.fromEntries([...ok.matchAll(/<(\w+):(note|other)[^>]*>([^<]*)</g)].map((m) => [m[2], m[3]]));
  };

  it('a restore brings exactly the version\'s properties, keeps the ones it replaces with the version it makes, and restoring that brings them back', async () => {
    await put('/rp.txt', 'v1');
    expect((await set('/rp.txt', '<Z:note>old</Z:note>')).status).toBe(207);
    expect((await t.request('DELETE', '/rp.txt')).status).toBe(204);
    const [deleted] = await versionIds('/rp.txt');
    await put('/rp.txt', 'v2');
    expect((await set('/rp.txt', '<Z:note>important-new</Z:note><Z:other>only-on-v2</Z:other>')).status).toBe(207);

    expect((await t.request('POST', `/rp.txt?restore=${deleted}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'rp.txt'), 'utf8')).toBe('v1');
    expect(await propsOf('/rp.txt')).toEqual({ note: 'old' });

    const [undo] = await versionIds('/rp.txt'); // newest first: what the restore replaced
    expect((await t.request('POST', `/rp.txt?restore=${undo}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'rp.txt'), 'utf8')).toBe('v2');
    expect(await propsOf('/rp.txt')).toEqual({ note: 'important-new', other: 'only-on-v2' });
  });

  it('restoring a version an upload replaced leaves the file\'s properties as they are (an upload changes none)', async () => {
    await put('/up.txt', 'one');
    expect((await set('/up.txt', '<Z:note>kept</Z:note>')).status).toBe(207);
    await put('/up.txt', 'two');
    const [first] = await versionIds('/up.txt');
    expect((await t.request('POST', `/up.txt?restore=${first}`)).status).toBe(204);
    expect(await readFile(join(t.root, 'up.txt'), 'utf8')).toBe('one');
    expect(await propsOf('/up.txt')).toEqual({ note: 'kept' });
  });
});

describe('a deleted tree whose files cannot be listed as versions', () => {
  it('holding a file whose path would be too long among the retained versions: 403 too-deep-to-keep, nothing taken away, and the server starts again', async () => {
    const seg = 'd'.repeat(150);
    const rootBytes = Buffer.byteLength(t.root);
    let path = '/deep';
    expect((await t.request('MKCOL', path)).status).toBe(201);
    while (rootBytes + path.length + 1 + seg.length + 60 < 4080) {
      path += `/${seg}`;
      expect((await t.request('MKCOL', path)).status).toBe(201);
    }
    // Its path in the served tree fits (4080 bytes); moved among the retained versions it would not.
    const deepName = 'f'.repeat(4080 - rootBytes - path.length - 1);
    expect((await t.request('PUT', `${path}/${deepName}`, { body: 'deep' })).status).toBe(201);
    expect((await t.request('PUT', `${path}/short.txt`, { body: 'short' })).status).toBe(201);
    const refused = await t.request('DELETE', '/deep');
    expect(refused.status).toBe(403);
    expect(codeOf(refused)).toBe('too-deep-to-keep');
    expect((await t.request('GET', `${path}/${deepName}`)).text).toBe('deep');
    expect((await t.request('GET', `${path}/short.txt`)).text).toBe('short');
    expect((await trashOf('/')).deleted.filter((e) => e.path.startsWith('/deep'))).toEqual([]);
    await t.restart();
    expect((await t.request('GET', `${path}/${deepName}`)).text).toBe('deep');
  });

  it('goes back where it was: the DELETE fails and nothing is taken away', async () => {
    await mkdir(join(t.root, 'unlisted'));
    await writeFile(join(t.root, 'unlisted', 'kept.txt'), 'kept');
    const scan = jest.spyOn(t.server.services.retention, 'scanTree').mockRejectedValueOnce(new Error('scan failed'));
    try {
      expect((await t.request('DELETE', '/unlisted/')).status).toBe(500);
    } finally {
      scan.mockRestore();
    }
    expect(await readFile(join(t.root, 'unlisted', 'kept.txt'), 'utf8')).toBe('kept');
    expect((await t.request('GET', '/unlisted/kept.txt')).text).toBe('kept');
    // And it can be deleted (and recovered) once listing works.
    expect((await t.request('DELETE', '/unlisted/')).status).toBe(204);
    expect((await trashOf('/unlisted/')).deleted.map((e) => e.path)).toEqual(['/unlisted/kept.txt']);
  });
});

describe('versions and MOVE', () => {
  it('the version list of the new path includes the history from the old path, also for a moved collection', async () => {
    await put('/m1.txt', 'v1');
    await put('/m1.txt', 'v2');
    const before = await versionIds('/m1.txt');
    expect(before).toHaveLength(1);
    expect((await t.request('MOVE', '/m1.txt', { headers: { Destination: dest(t, '/m2.txt') } })).status).toBe(201);
    expect(await versionIds('/m2.txt')).toEqual(before);
    expect(await versionIds('/m1.txt')).toEqual([]);
    expect(await versionText('/m2.txt', before[0])).toBe('v1');

    expect((await t.request('MKCOL', '/md')).status).toBe(201);
    await put('/md/f.txt', 'one');
    await put('/md/f.txt', 'two');
    const inner = await versionIds('/md/f.txt');
    expect((await t.request('MOVE', '/md', { headers: { Destination: dest(t, '/md2') } })).status).toBe(201);
    expect(await versionIds('/md2/f.txt')).toEqual(inner);

    // MOVE onto an existing file: its own bytes are retained too, and the history joins.
    await put('/m3.txt', 'target');
    expect((await t.request('MOVE', '/m2.txt', { headers: { Destination: dest(t, '/m3.txt') } })).status).toBe(204);
    const joined = await versionIds('/m3.txt');
    expect(joined).toEqual(expect.arrayContaining(before));
    const texts = await Promise.all(joined.map((id) => versionText('/m3.txt', id)));
    expect(texts).toEqual(expect.arrayContaining(['v1', 'target']));
  });
});

describe('an overwrite through a symlink', () => {
  it('retains the real bytes, not the link', async () => {
    await mkdir(join(t.root, 'sl'));
    await writeFile(join(t.root, 'sl', 'real.txt'), 'old real bytes');
    await symlink('real.txt', join(t.root, 'sl', 'link.txt'));
    expect((await t.request('PUT', '/sl/link.txt', { body: 'new bytes' })).status).toBe(204);
    expect(await readFile(join(t.root, 'sl', 'real.txt'), 'utf8')).toBe('new bytes');
    const [id] = await versionIds('/sl/link.txt');
    expect(await versionText('/sl/link.txt', id)).toBe('old real bytes');
  });
});

describe('the command line', () => {
  async function run(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      return { code: await main(args), out };
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
    }
  }

  it('`trash DIR` prints one deleted file a line; `restore PATH --version ID --to NEW` writes it elsewhere', async () => {
    expect((await t.request('MKCOL', '/c1')).status).toBe(201);
    await put('/c1/gone.txt', 'cli bytes');
    expect((await t.request('DELETE', '/c1/gone.txt')).status).toBe(204);
    const listed = await run(['trash', '/c1', '--root', t.root, '--state', t.stateDir]);
    expect(listed.code).toBe(0);
    const lines = listed.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const [id, time, size, , path] = lines[0].split(/\s{2}/);
    expect(new Date(time).toISOString()).toBe(time);
    expect([size, path]).toEqual(['9', '/c1/gone.txt']);
    expect(lines[0]).toContain(`versions ${id}`);

    const restored = await run(['restore', '/c1/gone.txt', '--version', id, '--to', '/c1/back.txt', '--root', t.root, '--state', t.stateDir]);
    expect(restored.code).toBe(0);
    expect(restored.out).toContain('/c1/back.txt');
    expect(await readFile(join(t.root, 'c1', 'back.txt'), 'utf8')).toBe('cli bytes');
    const missing = await run(['restore', '/c1/gone.txt', '--version', id, '--to', '/nope/back.txt', '--root', t.root, '--state', t.stateDir]);
    expect(missing.code).toBe(1);
  });
});

describe('with retention off', () => {
  it('COPY and MOVE onto an existing tree still replace it whole, and keep no bytes', async () => {
    const s = await startTestServer({ retention: { maxVersionsPerPath: 0 } });
    try {
      for (const p of ['/a', '/b', '/c']) expect((await s.request('MKCOL', p)).status).toBe(201);
      expect((await s.request('PUT', '/a/1.txt', { body: 'one' })).status).toBe(201);
      expect((await s.request('PUT', '/b/old.txt', { body: 'old' })).status).toBe(201);
      expect((await s.request('PUT', '/c/other.txt', { body: 'other' })).status).toBe(201);
      expect((await s.request('COPY', '/a', { headers: { Destination: dest(s, '/b') } })).status).toBe(204);
      expect((await readdir(join(s.root, 'b'))).sort()).toEqual(['1.txt']);
      expect((await s.request('MOVE', '/c', { headers: { Destination: dest(s, '/a') } })).status).toBe(204);
      expect((await readdir(join(s.root, 'a'))).sort()).toEqual(['other.txt']);
      expect(await readdir(join(s.stateDir, 'retained')).catch(() => [])).toEqual([]);
      expect((JSON.parse((await s.request('GET', '/?trash')).text) as { deleted: unknown[] }).deleted).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
