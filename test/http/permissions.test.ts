/**
 * Access rules over real HTTP with real credentials, on the README's example (everyone reads,
 * each user writes their home, other homes are invisible, /shared/ is for alice and bob) plus a
 * private corner of /shared/: read-only users, homes, hidden members in PROPFIND and the HTML
 * index, COPY/MOVE/DELETE of trees refused before anything changes, lock ownership, versions.
 */
import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { startAuthServer, htpasswdLine, basic, errorCode, type AuthServer } from '../support/authKit';
import { header, lockPath, lockinfo, XML_HEADERS, dest } from '../support/davHttpKit';
import { DAV, findAll, text } from '../support/xmlQuery';
import { rawRequest } from '../support/rawHttp';

const USERS = { alice: 'alice pw', bob: 'bob pw', carol: 'carol pw' } as const;
type User = keyof typeof USERS;
const as = (user: User, extra: Record<string, string> = {}) => ({ ...basic(user, USERS[user]), ...extra });

const ACCESS = [
  { path: '/', who: '*', allow: 'read' },
  { path: '/home/{user}/', who: '*', allow: 'write' },
  { path: '/home/', who: '*', allow: 'none' },
  { path: '/shared/', who: ['alice', 'bob'], allow: 'write' },
  { path: '/shared/private/', who: 'bob', allow: 'write' },
  { path: '/shared/private/', who: '*', allow: 'none' },
] as const;

describe('access rules', () => {
  let t: AuthServer;
  const hrefsOf = async (user: User, path: string) => {
    const res = await t.request('PROPFIND', path, { headers: as(user, { Depth: '1' }) });
    expect(res.status).toBe(207);
    return findAll(res.xml(), DAV, 'response').map((r) => text(r, DAV, 'href'));
  };

  beforeAll(async () => {
    t = await startAuthServer(Object.entries(USERS).map(([u, p]) => htpasswdLine(u, p, 'bcryptjs')), { access: ACCESS });
    for (const dir of ['home/alice', 'home/bob', 'home/carol', 'shared/private', 'shared/sub']) await mkdir(`${t.root}/${dir}`, { recursive: true });
    await writeFile(`${t.root}/readme.txt`, 'read me\n');
    await writeFile(`${t.root}/home/bob/b.txt`, 'bob only\n');
    await writeFile(`${t.root}/shared/s.txt`, 'shared\n');
    await writeFile(`${t.root}/shared/private/p.txt`, 'private\n');
  });
  afterAll(async () => {
    await t.close();
  });

  it('asks anonymous requests to sign in (401), also for reading', async () => {
    for (const [method, path] of [['GET', '/readme.txt'], ['PROPFIND', '/'], ['PUT', '/home/alice/x']]) {
      const res = await t.request(method, path, { headers: { Depth: '0' }, body: method === 'PUT' ? 'x' : undefined });
      expect([method, res.status, header(res, 'www-authenticate')]).toEqual([method, 401, 'Basic realm="keepdav", charset="UTF-8"']);
    }
    expect(existsSync(`${t.root}/home/alice/x`)).toBe(false);
  });

  it('lets a user read but not write where the rule says read; the 403 names the deciding rule', async () => {
    expect((await t.request('GET', '/readme.txt', { headers: as('carol') })).text).toBe('read me\n');
    const put = await t.request('PUT', '/readme.txt', { headers: as('carol'), body: 'overwritten' });
    expect(put.status).toBe(403);
    expect(errorCode(put)).toBe('no-permission');
    expect(put.text).toContain('<k:rule>/</k:rule>');
    for (const [method, path] of [['MKCOL', '/newdir'], ['DELETE', '/readme.txt'], ['PROPPATCH', '/readme.txt'], ['LOCK', '/readme.txt']]) {
      const res = await t.request(method, path, { headers: as('carol', XML_HEADERS), body: method === 'LOCK' ? lockinfo('exclusive') : method === 'PROPPATCH' ? '<x/>' : undefined });
      expect([method, res.status]).toEqual([method, 403]);
    }
    expect(await readFile(`${t.root}/readme.txt`, 'utf8')).toBe('read me\n');
    expect(existsSync(`${t.root}/newdir`)).toBe(false);
    // OPTIONS is a read.
    expect((await t.request('OPTIONS', '/', { headers: as('carol') })).status).toBe(200);
  });

  it('gives every user a home that the others can neither read nor list', async () => {
    expect((await t.request('PUT', '/home/alice/a.txt', { headers: as('alice'), body: 'mine' })).status).toBe(201);
    expect(await readFile(`${t.root}/home/alice/a.txt`, 'utf8')).toBe('mine');
    const peek = await t.request('GET', '/home/bob/b.txt', { headers: as('alice') });
    expect(peek.status).toBe(403);
    expect(peek.text).toContain('<k:rule>/home/</k:rule>');
    expect((await t.request('PROPFIND', '/home/bob/', { headers: as('alice', { Depth: '1' }) })).status).toBe(403);
    expect((await t.request('PUT', '/home/bob/b.txt', { headers: as('alice'), body: 'x' })).status).toBe(403);
    expect(await readFile(`${t.root}/home/bob/b.txt`, 'utf8')).toBe('bob only\n');
    expect(await hrefsOf('bob', '/home/bob/')).toEqual(['/home/bob/', '/home/bob/b.txt']);
  });

  it('leaves out of PROPFIND and the HTML index the members a user may not read', async () => {
    expect((await hrefsOf('alice', '/')).sort()).toEqual(['/', '/readme.txt', '/shared/']);
    expect((await hrefsOf('alice', '/shared/')).sort()).toEqual(['/shared/', '/shared/s.txt', '/shared/sub/']);
    expect((await hrefsOf('bob', '/shared/')).sort()).toEqual(['/shared/', '/shared/private/', '/shared/s.txt', '/shared/sub/']);
    const index = await t.request('GET', '/shared/', { headers: as('alice') });
    expect(index.status).toBe(200);
    expect(index.text).toContain('href="/shared/s.txt"');
    expect(index.text).not.toContain('private');
    expect((await t.request('GET', '/shared/', { headers: as('bob') })).text).toContain('href="/shared/private/"');
  });

  it('needs read on the COPY source and write on the destination; MOVE needs write on the source too', async () => {
    const copy = (user: User, from: string, to: string, method = 'COPY') => t.request(method, from, { headers: as(user, { Destination: dest(t, to) }) });
    expect((await copy('carol', '/readme.txt', '/home/carol/readme.txt')).status).toBe(201);
    expect(await readFile(`${t.root}/home/carol/readme.txt`, 'utf8')).toBe('read me\n');
    const noWrite = await copy('carol', '/readme.txt', '/shared/readme.txt');
    expect([noWrite.status, errorCode(noWrite)]).toEqual([403, 'no-permission']);
    expect(existsSync(`${t.root}/shared/readme.txt`)).toBe(false);
    expect((await copy('carol', '/home/bob/b.txt', '/home/carol/b.txt')).status).toBe(403);
    expect(existsSync(`${t.root}/home/carol/b.txt`)).toBe(false);
    expect((await copy('carol', '/readme.txt', '/home/carol/moved.txt', 'MOVE')).status).toBe(403);
    expect(existsSync(`${t.root}/readme.txt`)).toBe(true);
    expect((await copy('alice', '/shared/s.txt', '/home/alice/s.txt', 'MOVE')).status).toBe(201);
    expect(existsSync(`${t.root}/home/alice/s.txt`)).toBe(true);
    expect((await copy('alice', '/home/alice/s.txt', '/shared/s.txt', 'MOVE')).status).toBe(201);
  });

  it('refuses a Depth-infinity COPY, MOVE or DELETE over a subtree the user may not entirely access, before anything changes', async () => {
    const before = (await readdir(`${t.root}/shared`)).sort();
    const del = await t.request('DELETE', '/shared/', { headers: as('alice') });
    expect(del.status).toBe(403);
    expect(del.text).toContain('<k:rule>/shared/private/</k:rule>');
    expect((await t.request('MOVE', '/shared/', { headers: as('alice', { Destination: dest(t, '/home/alice/shared/') }) })).status).toBe(403);
    expect((await t.request('COPY', '/shared/', { headers: as('alice', { Destination: dest(t, '/home/alice/copy/') }) })).status).toBe(403);
    expect((await readdir(`${t.root}/shared`)).sort()).toEqual(before);
    expect(await readFile(`${t.root}/shared/private/p.txt`, 'utf8')).toBe('private\n');
    expect(existsSync(`${t.root}/home/alice/copy`)).toBe(false);
    expect(existsSync(`${t.root}/home/alice/shared`)).toBe(false);
    // Writing into your own home over a tree you may read entirely works.
    expect((await t.request('COPY', '/shared/sub/', { headers: as('alice', { Destination: dest(t, '/home/alice/sub/') }) })).status).toBe(201);
  });

  it('keeps a lock to the user who took it: another user cannot unlock, refresh or use its token', async () => {
    const { res, token } = await lockPath({ ...t, request: (m, p, o) => t.request(m, p, { ...o, headers: { ...o?.headers, ...as('alice') } }) }, '/shared/s.txt');
    expect(res.status).toBe(200);
    const unlock = await t.request('UNLOCK', '/shared/s.txt', { headers: as('bob', { 'Lock-Token': `<${token}>` }) });
    expect([unlock.status, errorCode(unlock)]).toEqual([403, 'lock-not-owned']);
    // §9.11.1 comes first: on a URL the lock does not cover, bob gets the 409 anyone gets, which names neither alice's lock nor where it is.
    const elsewhere = await t.request('UNLOCK', '/shared/sub/', { headers: as('bob', { 'Lock-Token': `<${token}>` }) });
    expect([elsewhere.status, errorCode(elsewhere)]).toEqual([409, 'lock-token-matches-request-uri']);
    expect(elsewhere.text).not.toContain('s.txt');
    const refresh = await t.request('LOCK', '/shared/s.txt', { headers: as('bob', { If: `(<${token}>)`, Timeout: 'Second-600' }) });
    expect([refresh.status, errorCode(refresh)]).toEqual([403, 'lock-not-owned']);
    // RFC 4918 §6.4: bob's copy of alice's token does not count as submitted.
    const put = await t.request('PUT', '/shared/s.txt', { headers: as('bob', { If: `(<${token}>)` }), body: 'bob was here' });
    expect([put.status, errorCode(put)]).toEqual([423, 'lock-token-submitted']);
    expect(await readFile(`${t.root}/shared/s.txt`, 'utf8')).toBe('shared\n');
    expect((await t.request('PUT', '/shared/s.txt', { headers: as('alice', { If: `(<${token}>)` }), body: 'alice edit' })).status).toBe(204);
    expect((await t.request('UNLOCK', '/shared/s.txt', { headers: as('alice', { 'Lock-Token': `<${token}>` }) })).status).toBe(204);
  });

  it('lets a depth-infinity LOCK hold only a subtree the user may write entirely', async () => {
    const wide = await t.request('LOCK', '/shared/', { headers: as('alice', { ...XML_HEADERS, Depth: 'infinity' }), body: lockinfo('exclusive') });
    expect([wide.status, errorCode(wide)]).toEqual([403, 'no-permission']);
    expect(wide.text).toContain('<k:rule>/shared/private/</k:rule>');
    // bob still writes in /shared/private/; a Depth 0 lock on /shared/ holds only the folder itself.
    expect((await t.request('PUT', '/shared/private/p2.txt', { headers: as('bob'), body: 'b' })).status).toBe(201);
    const { res, token } = await lockPath({ ...t, request: (m, p, o) => t.request(m, p, { ...o, headers: { ...o?.headers, ...as('alice') } }) }, '/shared/', { depth: '0' });
    expect(res.status).toBe(200);
    expect((await t.request('PUT', '/shared/private/p2.txt', { headers: as('bob'), body: 'b2' })).status).toBe(204);
    expect((await t.request('UNLOCK', '/shared/', { headers: as('alice', { 'Lock-Token': `<${token}>` }) })).status).toBe(204);
    // bob may write the whole subtree, so his depth-infinity lock is granted.
    const bobs = await t.request('LOCK', '/shared/', { headers: as('bob', { ...XML_HEADERS, Depth: 'infinity' }), body: lockinfo('exclusive') });
    expect(bobs.status).toBe(200);
    expect((await t.request('UNLOCK', '/shared/', { headers: as('bob', { 'Lock-Token': header(bobs, 'lock-token')! }) })).status).toBe(204);
  });

  it('lets versions follow read and restore follow write', async () => {
    expect((await t.request('PUT', '/shared/v.txt', { headers: as('bob'), body: 'one' })).status).toBe(201);
    expect((await t.request('PUT', '/shared/v.txt', { headers: as('bob'), body: 'two' })).status).toBe(204);
    const list = await t.request('GET', '/shared/v.txt?versions', { headers: as('carol') });
    expect(list.status).toBe(200);
    const id = (JSON.parse(list.text) as { versions: Array<{ id: string }> }).versions[0].id;
    expect((await t.request('GET', `/shared/v.txt?version=${id}`, { headers: as('carol') })).text).toBe('one');
    const restore = await t.request('POST', `/shared/v.txt?restore=${id}`, { headers: as('carol') });
    expect([restore.status, errorCode(restore)]).toEqual([403, 'no-permission']);
    expect(await readFile(`${t.root}/shared/v.txt`, 'utf8')).toBe('two');
    expect((await t.request('GET', '/home/bob/b.txt?versions', { headers: as('alice') })).status).toBe(403);
    expect((await t.request('POST', `/shared/v.txt?restore=${id}`, { headers: as('bob') })).status).toBe(204);
    expect(await readFile(`${t.root}/shared/v.txt`, 'utf8')).toBe('one');
  });

  it('lets a restore to another path write only where the user may write', async () => {
    expect((await t.request('PUT', '/shared/r.txt', { headers: as('alice'), body: 'first' })).status).toBe(201);
    expect((await t.request('PUT', '/shared/r.txt', { headers: as('alice'), body: 'second' })).status).toBe(204);
    const list = await t.request('GET', '/shared/r.txt?versions', { headers: as('alice') });
    const id = (JSON.parse(list.text) as { versions: Array<{ id: string }> }).versions[0].id;
    const elsewhere: Array<[string, Record<string, string>]> = [
      ['/home/bob/evil.txt', { Destination: '/home/bob/evil.txt' }],
      ['/shared/private/evil.txt', { Destination: dest(t, '/shared/private/evil.txt') }],
      ['/readme.txt', { Destination: '/readme.txt', Overwrite: 'T' }],
    ];
    for (const [to, headers] of elsewhere) {
      const res = await t.request('POST', `/shared/r.txt?restore=${id}`, { headers: as('alice', headers) });
      expect([to, res.status, errorCode(res)]).toEqual([to, 403, 'no-permission']);
    }
    const viaQuery = await t.request('POST', `/shared/r.txt?restore=${id}&to=${encodeURIComponent('/home/carol/evil.txt')}`, { headers: as('alice') });
    expect([viaQuery.status, errorCode(viaQuery)]).toEqual([403, 'no-permission']);
    for (const gone of ['home/bob/evil.txt', 'shared/private/evil.txt', 'home/carol/evil.txt']) expect(existsSync(`${t.root}/${gone}`)).toBe(false);
    expect(await readFile(`${t.root}/readme.txt`, 'utf8')).toBe('read me\n');
    // Into her own home it works.
    expect((await t.request('POST', `/shared/r.txt?restore=${id}`, { headers: as('alice', { Destination: '/home/alice/r.txt' }) })).status).toBe(201);
    expect(await readFile(`${t.root}/home/alice/r.txt`, 'utf8')).toBe('first');
  });

  it('leaves out of the trash listing what the user may not read', async () => {
    expect((await t.request('PUT', '/home/bob/layoffs.txt', { headers: as('bob'), body: 'plan' })).status).toBe(201);
    expect((await t.request('DELETE', '/home/bob/layoffs.txt', { headers: as('bob') })).status).toBe(204);
    expect((await t.request('PUT', '/shared/gone.txt', { headers: as('bob'), body: 'g' })).status).toBe(201);
    expect((await t.request('DELETE', '/shared/gone.txt', { headers: as('bob') })).status).toBe(204);
    const trashOf = async (user: User, path: string): Promise<string[]> => {
      const res = await t.request('GET', `${path}?trash`, { headers: as(user) });
      expect(res.status).toBe(200);
      return (JSON.parse(res.text) as { deleted: Array<{ path: string }> }).deleted.map((d) => d.path).sort();
    };
    expect(await trashOf('alice', '/')).toEqual(['/shared/gone.txt']);
    expect(await trashOf('bob', '/')).toEqual(['/home/bob/layoffs.txt', '/shared/gone.txt']);
    // Paging skips what is hidden without ending early.
    const page = await t.request('GET', '/?trash&limit=1', { headers: as('alice') });
    expect((JSON.parse(page.text) as { deleted: Array<{ path: string }> }).deleted.map((d) => d.path)).toEqual(['/shared/gone.txt']);
  });
});

describe('access rules and equivalent spellings', () => {
  it('a member named by another spelling (NFD, or another case with --case-insensitive) is under its own rules, not the spelling\'s', async () => {
    const access = [
      { path: '/', who: '*', allow: 'write' },
      { path: '/\u00e9t\u00e9/', who: '*', allow: 'read' },
      { path: '/Secret/', who: '*', allow: 'none' },
    ];
    const t = await startAuthServer([htpasswdLine('alice', 'pw', 'bcryptjs')], { access: access as never, caseInsensitive: true });
    try {
      await mkdir(`${t.root}/\u00e9t\u00e9`);
      await mkdir(`${t.root}/Secret`);
      await writeFile(`${t.root}/\u00e9t\u00e9/kept.txt`, 'kept');
      await writeFile(`${t.root}/Secret/s.txt`, 'secret');
      const alice = basic('alice', 'pw');
      for (const [method, path, body] of [
        ['PUT', '/e%CC%81te%CC%81/new.txt', 'x'],
        ['PUT', '/e%CC%81te%CC%81/kept.txt', 'overwritten'],
        ['DELETE', '/e%CC%81te%CC%81/kept.txt', undefined],
        ['MKCOL', '/E%CC%81TE%CC%81/sub/', undefined],
        ['GET', '/secret/s.txt', undefined],
        ['PROPFIND', '/SECRET/', undefined],
        ['PUT', '/secret/s.txt', 'x'],
      ] as const) {
        const res = await t.request(method, path, { headers: { ...alice, Depth: '0' }, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      }
      expect(await readFile(`${t.root}/\u00e9t\u00e9/kept.txt`, 'utf8')).toBe('kept');
      expect(await readdir(`${t.root}/\u00e9t\u00e9`)).toEqual(['kept.txt']);
      // Where the rules allow it, the other spelling still addresses the member.
      expect((await t.request('GET', '/e%CC%81te%CC%81/kept.txt', { headers: alice })).text).toBe('kept');
    } finally {
      await t.close();
    }
  });
});

describe('server-wide switches', () => {
  it('--read-only refuses every write with 403 read-only and says so in Allow', async () => {
    const t = await startAuthServer([htpasswdLine('alice', 'pw', 'bcryptjs')], { readOnly: true });
    try {
      await writeFile(`${t.root}/f.txt`, 'f');
      const auth = basic('alice', 'pw');
      expect((await t.request('GET', '/f.txt', { headers: auth })).status).toBe(200);
      for (const method of ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'LOCK', 'UNLOCK', 'POST']) {
        const res = await t.request(method, '/f.txt', { headers: { ...auth, Destination: dest(t, '/g.txt') } });
        expect([method, res.status, errorCode(res)]).toEqual([method, 403, 'read-only']);
      }
      expect(header(await t.request('OPTIONS', '/', { headers: auth }), 'allow')).toBe('OPTIONS, GET, HEAD, PROPFIND');
      expect((await rawRequest(t.port, 'OPTIONS * HTTP/1.1')).headers.allow).toBe('OPTIONS, GET, HEAD, PROPFIND');
      expect(await readFile(`${t.root}/f.txt`, 'utf8')).toBe('f');
      expect(existsSync(`${t.root}/g.txt`)).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('--anonymous read with users: anonymous reads, writes ask for a login; an anonymous rule opens a corner', async () => {
    const access = [{ path: '/drop/', who: 'anonymous', allow: 'write' }, { path: '/', who: '*', allow: 'write' }] as const;
    const t = await startAuthServer([htpasswdLine('alice', 'pw', 'bcryptjs')], { anonymous: 'read', access: access });
    try {
      await mkdir(`${t.root}/drop`);
      await writeFile(`${t.root}/f.txt`, 'f');
      expect((await t.request('GET', '/f.txt')).status).toBe(200);
      expect((await t.request('PUT', '/f.txt', { body: 'x' })).status).toBe(401);
      expect((await t.request('PUT', '/drop/in.txt', { body: 'dropped' })).status).toBe(201);
      expect((await t.request('PUT', '/f.txt', { headers: basic('alice', 'pw'), body: 'alice' })).status).toBe(204);
      expect(await readFile(`${t.root}/f.txt`, 'utf8')).toBe('alice');
    } finally {
      await t.close();
    }
  });

  it('without users, --anonymous read makes writes 403 (nobody could sign in)', async () => {
    const t = await startAuthServer([], { usersFile: null, anonymous: 'read' });
    try {
      expect((await t.request('GET', '/')).status).toBe(200);
      const put = await t.request('PUT', '/x.txt', { body: 'x' });
      expect([put.status, errorCode(put), header(put, 'www-authenticate')]).toEqual([403, 'no-permission', undefined]);
    } finally {
      await t.close();
    }
  });
});
