/**
 * davfs2 (neon) replayed (clients.md, "davfs2"): neon's body shapes (default DAV: namespace,
 * single quotes, owner as text), its tagged If headers (`<absolute-URI> (<T>)`, what
 * ne_lock_using_resource sends) and untagged refreshes, If-None-Match: * on LOCK and PUT of new
 * files, If-Match on replace, lock discovery after a 423, the executable property.
 *
 * davfs2's own logic (webdav.c dav_lock/dav_put): a LOCK answered 201 marks the file as existing,
 * so the PUT that follows carries no If-None-Match; only an unlocked new file is PUT with
 * If-None-Match: *.
 */
import { startTestServer, type TestServer } from '../support/testServer';
import { textOf } from '../../src/xml/tree';
import {
  APACHE_PROPS,
  DAV,
  ReplayClient,
  UA,
  activeLocksIn,
  bytesOf,
  disk,
  discoverLocks,
  expectConflict,
  hdr,
  lockFacts,
  lockToken,
  neonLockinfo,
  onlyResponse,
  prop200,
  propOf,
  responsesByHref,
} from './replayKit';

const NEON_XML = { 'Content-Type': 'application/xml' };

/** neon's ne_propfind_named body for davfs2's prop_names. */
const DAVFS2_PROPFIND =
  '<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n' +
  '<getetag xmlns="DAV:"/>\n<getcontentlength xmlns="DAV:"/>\n<creationdate xmlns="DAV:"/>\n' +
  '<getlastmodified xmlns="DAV:"/>\n<resourcetype xmlns="DAV:"/>\n<executable xmlns="http://apache.org/dav/props/"/>\n' +
  '</prop></propfind>\n';

const LOCKDISCOVERY_PROPFIND = '<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n<lockdiscovery xmlns="DAV:"/>\n</prop></propfind>\n';

const executableBody = (value: 'T' | 'F') =>
  '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>' +
  `<executable xmlns="http://apache.org/dav/props/">${value}</executable></D:prop></D:set></D:propertyupdate>`;

describe('davfs2 (neon)', () => {
  let t: TestServer;
  let davfs: ReplayClient;
  /** neon's lock submission: the lock's URI as the tag. */
  const tagged = (path: string, token: string) => `<${davfs.url(path)}> (<${token}>)`;
  const lock = (c: ReplayClient, path: string, owner: string, extra: Record<string, string> = {}) =>
    c.send('LOCK', path, { ...NEON_XML, Depth: '0', Timeout: 'Second-1800', ...extra }, neonLockinfo(owner));

  beforeAll(async () => {
    t = await startTestServer();
    davfs = new ReplayClient(t, UA.davfs2);
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/existing.txt', { body: 'existing' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  test('PROPFIND /dir/ Depth 1 with apache:executable: 207, every href under /dir/, executable 404 where never set', async () => {
    const res = await davfs.send('PROPFIND', '/dir/', { ...NEON_XML, Depth: '1' }, DAVFS2_PROPFIND);
    expect(res.status).toBe(207);
    const byHref = responsesByHref(res.xml());
    expect([...byHref.keys()].every((h) => h.startsWith('/dir/'))).toBe(true);
    expect(byHref.has('/dir/')).toBe(true);
    const file = byHref.get('/dir/existing.txt')!;
    expect(prop200(file, DAV, 'getetag')).toMatch(/^"[^"]+"$/);
    expect(prop200(file, DAV, 'getcontentlength')).toBe('8');
    expect(prop200(file, DAV, 'creationdate')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(propOf(file, APACHE_PROPS, 'executable')?.status).toBe(404);
  });

  describe('a new file, locked on open-for-write', () => {
    let token = '';
    const content = bytesOf(9000, 11);

    test('LOCK /dir/new.txt with If-None-Match: *, Timeout Second-1800: 201, an empty file', async () => {
      const res = await lock(davfs, '/dir/new.txt', 'alice', { 'If-None-Match': '*' });
      expect(res.status).toBe(201);
      token = lockToken(res);
      expect(lockFacts(activeLocksIn(res.xml())[0])).toMatchObject({ token, timeout: 'Second-1800' });
      expect(await disk(t).size('dir/new.txt')).toBe(0);
    });

    test('LOCK with If-None-Match: * of a file that exists: 412 (davfs2: EEXIST), no lock created', async () => {
      const res = await lock(davfs, '/dir/existing.txt', 'alice', { 'If-None-Match': '*' });
      expectConflict(res, 412, 'precondition-failed');
      expect(hdr(res, 'lock-token')).toBeUndefined();
      expect(await discoverLocks(davfs, '/dir/existing.txt')).toEqual([]);
    });

    test('after the 201 davfs2 PUTs with its tagged If and no If-None-Match: 204 with ETag and Last-Modified', async () => {
      const res = await davfs.send('PUT', '/dir/new.txt', { If: tagged('/dir/new.txt', token), 'Content-Length': content.length }, content);
      expect(res.status).toBe(204);
      expect(hdr(res, 'etag')).toMatch(/^"[^"]+"$/);
      expect(hdr(res, 'last-modified')).toMatch(/GMT$/);
      expect((await disk(t).bytes('dir/new.txt')).equals(content)).toBe(true);
    });

    test('PUT with If-None-Match: * and If onto the locked file (which exists since the LOCK): 412, nothing written', async () => {
      // RFC 4918 §7.3: LOCK on an unmapped URL creates a (locked, empty) resource, so "*" matches it.
      const res = await davfs.send('PUT', '/dir/new.txt', { 'If-None-Match': '*', If: tagged('/dir/new.txt', token) }, 'other');
      expectConflict(res, 412, 'precondition-failed');
      expect((await disk(t).bytes('dir/new.txt')).equals(content)).toBe(true);
    });

    test('refresh: LOCK with If: (<T>) (untagged, as ne_lock_refresh sends) and no body: 200; UNLOCK: 204', async () => {
      const refreshed = await davfs.send('LOCK', '/dir/new.txt', { Timeout: 'Second-1800', If: `(<${token}>)` });
      expect(refreshed.status).toBe(200);
      expect(lockFacts(activeLocksIn(refreshed.xml())[0])).toMatchObject({ token, timeout: 'Second-1800' });
      expect((await davfs.send('UNLOCK', '/dir/new.txt', { 'Lock-Token': `<${token}>` })).status).toBe(204);
      expect(await discoverLocks(davfs, '/dir/new.txt')).toEqual([]);
    });
  });

  describe('If-None-Match: * and If-Match on PUT', () => {
    test('an unlocked new file: PUT with If-None-Match: *: 201; the same again: 412, the first content kept', async () => {
      expect((await davfs.send('PUT', '/dir/fresh.txt', { 'If-None-Match': '*' }, 'first')).status).toBe(201);
      const again = await davfs.send('PUT', '/dir/fresh.txt', { 'If-None-Match': '*' }, 'second');
      expectConflict(again, 412, 'precondition-failed');
      expect(hdr(again, 'etag')).toMatch(/^"[^"]+"$/);
      expect(await disk(t).text('dir/fresh.txt')).toBe('first');
    });

    test('If-None-Match: * and If naming a depth-infinity lock on the parent, for a new member: 201; for an existing one: 412', async () => {
      expect((await t.request('MKCOL', '/locked/')).status).toBe(201);
      const res = await davfs.send('LOCK', '/locked/', { ...NEON_XML, Depth: 'infinity', Timeout: 'Second-1800' }, neonLockinfo('alice'));
      expect(res.status).toBe(200);
      const token = lockToken(res);
      const created = await davfs.send('PUT', '/locked/new.txt', { 'If-None-Match': '*', If: tagged('/locked/', token) }, 'n');
      expect(created.status).toBe(201);
      const again = await davfs.send('PUT', '/locked/new.txt', { 'If-None-Match': '*', If: tagged('/locked/', token) }, 'm');
      expectConflict(again, 412, 'precondition-failed');
      expect(await disk(t).text('locked/new.txt')).toBe('n');
      expect((await davfs.send('UNLOCK', '/locked/', { 'Lock-Token': `<${token}>` })).status).toBe(204);
    });

    test('an existing file under its lock: PUT with If-Match: "E" and If: 204 with ETag + Last-Modified; a stale E: 412', async () => {
      const put = await davfs.send('PUT', '/dir/doc.txt', {}, 'v1');
      expect(put.status).toBe(201);
      const e1 = hdr(put, 'etag')!;
      const res = await lock(davfs, '/dir/doc.txt', 'alice');
      expect(res.status).toBe(200);
      const token = lockToken(res);

      const replaced = await davfs.send('PUT', '/dir/doc.txt', { 'If-Match': e1, If: tagged('/dir/doc.txt', token) }, 'v2');
      expect(replaced.status).toBe(204);
      const e2 = hdr(replaced, 'etag')!;
      expect(e2).toMatch(/^"[^"]+"$/);
      expect(e2).not.toBe(e1);
      expect(hdr(replaced, 'last-modified')).toMatch(/GMT$/);
      expect(await disk(t).text('dir/doc.txt')).toBe('v2');

      const stale = await davfs.send('PUT', '/dir/doc.txt', { 'If-Match': e1, If: tagged('/dir/doc.txt', token) }, 'v3');
      expectConflict(stale, 412, 'precondition-failed');
      expect(hdr(stale, 'etag')).toBe(e2);
      expect(await disk(t).text('dir/doc.txt')).toBe('v2');
      expect((await davfs.send('UNLOCK', '/dir/doc.txt', { 'Lock-Token': `<${token}>` })).status).toBe(204);
    });
  });

  describe("a PUT meeting someone else's lock", () => {
    let theirToken = '';
    beforeAll(async () => {
      expect((await t.request('PUT', '/dir/shared.txt', { body: 'theirs' })).status).toBe(201);
      const other = new ReplayClient(t, 'davfs2/1.7.0 neon/0.32.5 (other mount)');
      const res = await lock(other, '/dir/shared.txt', 'bob');
      expect(res.status).toBe(200);
      theirToken = lockToken(res);
    });

    test('PUT: 423 naming the lock root; then PROPFIND lockdiscovery shows the lock with its owner and token', async () => {
      const res = await davfs.send('PUT', '/dir/shared.txt', {}, 'mine');
      expectConflict(res, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: ['/dir/shared.txt'] });
      expect(await disk(t).text('dir/shared.txt')).toBe('theirs');

      const found = await davfs.send('PROPFIND', '/dir/shared.txt', { ...NEON_XML, Depth: '0' }, LOCKDISCOVERY_PROPFIND);
      expect(found.status).toBe(207);
      const discovery = propOf(onlyResponse(found), DAV, 'lockdiscovery');
      expect(discovery?.status).toBe(200);
      const locks = activeLocksIn(discovery!.el);
      expect(locks).toHaveLength(1);
      const facts = lockFacts(locks[0]);
      expect(facts.token).toBe(theirToken);
      // The owner comes back as sent (<owner>bob</owner>): davfs2 compares this string with its own.
      expect(textOf(facts.owner!).trim()).toBe('bob');
      expect(facts.lockroot).toBe('/dir/shared.txt');
    });

    test('the same owner (another mount of bob) adopts the discovered lock: refresh 200, then the retried PUT with it: 204', async () => {
      const bob = new ReplayClient(t, UA.davfs2);
      const refreshed = await bob.send('LOCK', '/dir/shared.txt', { Timeout: 'Second-1800', If: `(<${theirToken}>)` });
      expect(refreshed.status).toBe(200);
      const res = await bob.send('PUT', '/dir/shared.txt', { If: tagged('/dir/shared.txt', theirToken) }, 'bob again');
      expect(res.status).toBe(204);
      expect(await disk(t).text('dir/shared.txt')).toBe('bob again');
    });
  });

  test('a name with a space and é: neon escapes it in the path and in the If tag; LOCK 201, PUT with the tagged If 204', async () => {
    const path = '/dir/my%20file%20%C3%A9.txt';
    const res = await lock(davfs, path, 'alice', { 'If-None-Match': '*' });
    expect(res.status).toBe(201);
    const token = lockToken(res);
    expect(lockFacts(activeLocksIn(res.xml())[0]).lockroot).toBe(path);
    expect((await davfs.send('PUT', path, { If: tagged(path, token) }, 'escaped')).status).toBe(204);
    expect(await disk(t).text('dir/my file \u00e9.txt')).toBe('escaped');
    expect((await davfs.send('UNLOCK', path, { 'Lock-Token': `<${token}>` })).status).toBe(204);
  });

  test('two mounts create the same new file at once with If-None-Match: *: exactly one 201, the other 412; the winner\'s bytes', async () => {
    const mounts = Array.from({ length: 6 }, (_, i) => new ReplayClient(t, `${UA.davfs2} (mount ${i})`));
    const bodies = mounts.map((_, i) => bytesOf(50_000, 40 + i));
    const answers = await Promise.all(mounts.map((m, i) => m.send('PUT', '/dir/race.bin', { 'If-None-Match': '*' }, bodies[i])));
    const statuses = answers.map((a) => a.status);
    expect([...statuses].sort()).toEqual([201, 412, 412, 412, 412, 412]);
    const winner = statuses.indexOf(201);
    expect((await disk(t).bytes('dir/race.bin')).equals(bodies[winner])).toBe(true);
  });

  test('PROPPATCH apache:executable = T: 207 200; PROPFIND returns T', async () => {
    const res = await davfs.send('PROPPATCH', '/dir/existing.txt', NEON_XML, executableBody('T'));
    expect(res.status).toBe(207);
    expect(propOf(onlyResponse(res), APACHE_PROPS, 'executable')?.status).toBe(200);
    const found = await davfs.send('PROPFIND', '/dir/existing.txt', { ...NEON_XML, Depth: '0' }, DAVFS2_PROPFIND);
    expect(prop200(onlyResponse(found), APACHE_PROPS, 'executable')).toBe('T');
  });

  test('GET with If-None-Match: "E" (and If-Modified-Since): 304; with another ETag: 200 and the bytes', async () => {
    const head = await davfs.send('HEAD', '/dir/existing.txt');
    const etag = hdr(head, 'etag')!;
    const lastModified = hdr(head, 'last-modified')!;
    const res = await davfs.send('GET', '/dir/existing.txt', { 'If-None-Match': etag, 'If-Modified-Since': lastModified });
    expect(res.status).toBe(304);
    expect(hdr(res, 'etag')).toBe(etag);
    const changed = await davfs.send('GET', '/dir/existing.txt', { 'If-None-Match': '"not-the-etag"' });
    expect(changed.status).toBe(200);
    expect(changed.text).toBe('existing');
  });
});
