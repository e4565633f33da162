/**
 * LOCK and UNLOCK over HTTP (RFC 4918 §6, §7, §9.10, §9.11): grant, conflicts, enforcement with
 * and without the token, depth-infinity collection locks, refresh, unlock, expiry, persistence,
 * and what DELETE, MOVE and COPY do with locks.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, findAll, first, text } from '../support/xmlQuery';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';
import {
  XML_HEADERS,
  activeLockToken,
  activeLocks,
  dest,
  foundProp,
  header,
  lockPath,
  lockinfo,
  propertyUpdate,
  propfind,
  putInTwoParts,
  rawRequest,
} from '../support/davHttpKit';
import { STREAMED_BODY_MIN, uploadTemporaries } from '../support/uploadTemporaries';

const TOKEN_HEADER = /^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$/i;

/** Asserts a 423 DAV:error body with DAV:lock-token-submitted naming `rootHref`. */
function expectLockTokenSubmitted(res: TestResponse, rootHref: string): void {
  expect(res.status).toBe(423);
  const root = res.xml();
  expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
  const cond = first(root, DAV, 'lock-token-submitted');
  expect(cond).toBeDefined();
  expect(findAll(cond!, DAV, 'href').map((h) => textOf(h).trim())).toContain(rootHref);
}

describe('LOCK and UNLOCK', () => {
  let t: TestServer;
  let n = 0;

  /** A fresh file with known content; returns its URL path and its name under the root. */
  const freshFile = async (content = 'original'): Promise<{ path: string; rel: string }> => {
    n += 1;
    const rel = `f${n}.txt`;
    expect((await t.request('PUT', `/${rel}`, { body: content })).status).toBe(201);
    return { path: `/${rel}`, rel };
  };
  const onDisk = (rel: string): Promise<string> => readFile(join(t.root, rel), 'utf8');
  const exists = async (rel: string): Promise<boolean> => stat(join(t.root, rel)).then(() => true, () => false);
  const discovery = async (path: string): Promise<XmlElement[]> => {
    const res = await propfind(t, path, [[DAV, 'lockdiscovery']]);
    expect(res.status).toBe(207);
    return activeLocks(foundProp(res.xml(), DAV, 'lockdiscovery')!);
  };
  const ifToken = (token: string) => ({ If: `(<${token}>)` });

  beforeAll(async () => {
    t = await startTestServer({ lockTimeout: { minSeconds: 1, defaultSeconds: 60 } });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('granting', () => {
    test('exclusive Depth 0 on a file: 200, Lock-Token header, lockdiscovery with timeout, owner and lockroot', async () => {
      const f = await freshFile();
      const res = await t.request('LOCK', f.path, {
        headers: { ...XML_HEADERS, Depth: '0', Timeout: 'Second-600' },
        body: lockinfo('exclusive', '<D:href>http://example.org/~alice/contact</D:href>'),
      });
      expect(res.status).toBe(200);
      const tokenHeader = header(res, 'lock-token')!;
      expect(tokenHeader).toMatch(TOKEN_HEADER);
      const token = tokenHeader.slice(1, -1);
      const root = res.xml();
      expect(`{${root.ns}}${root.local}`).toBe('{DAV:}prop');
      const locks = activeLocks(first(root, DAV, 'lockdiscovery')!);
      expect(locks).toHaveLength(1);
      const lock = locks[0];
      expect(activeLockToken(lock)).toBe(token);
      expect(childElements(first(lock, DAV, 'locktype')!).map((e) => `{${e.ns}}${e.local}`)).toEqual(['{DAV:}write']);
      expect(childElements(first(lock, DAV, 'lockscope')!).map((e) => `{${e.ns}}${e.local}`)).toEqual(['{DAV:}exclusive']);
      expect(text(lock, DAV, 'depth')?.trim()).toBe('0');
      const timeout = text(lock, DAV, 'timeout')!.trim();
      const secs = Number(/^Second-(\d+)$/.exec(timeout)?.[1]);
      expect(secs).toBeGreaterThan(590);
      expect(secs).toBeLessThanOrEqual(600);
      // The owner comes back as sent: one DAV:href child with the same text.
      const owner = first(lock, DAV, 'owner')!;
      expect(childElements(owner).map((e) => `{${e.ns}}${e.local}`)).toEqual(['{DAV:}href']);
      expect(textOf(owner)).toBe('http://example.org/~alice/contact');
      expect(text(first(lock, DAV, 'lockroot')!, DAV, 'href')?.trim()).toBe(f.path);
      // PROPFIND agrees.
      const seen = await discovery(f.path);
      expect(seen.map(activeLockToken)).toEqual([token]);
      expect(textOf(first(seen[0], DAV, 'owner')!)).toBe('http://example.org/~alice/contact');
    });

    test('LOCK on an unmapped URL: 201 and an empty file on disk', async () => {
      const { res, token } = await lockPath(t, '/unmapped.txt', { depth: '0', timeout: 'Second-600' });
      expect(res.status).toBe(201);
      expect(token).toMatch(/^urn:uuid:/);
      const s = await stat(join(t.root, 'unmapped.txt'));
      expect(s.isFile()).toBe(true);
      expect(s.size).toBe(0);
      // The new resource is locked.
      expectLockTokenSubmitted(await t.request('PUT', '/unmapped.txt', { body: 'x' }), '/unmapped.txt');
      expect((await t.request('PUT', '/unmapped.txt', { body: 'x', headers: ifToken(token) })).status).toBe(204);
      expect(await onDisk('unmapped.txt')).toBe('x');
    });

    test('LOCK on an unmapped URL inside a locked collection adds a member: 423 without the collection\'s token, nothing created; 201 with it', async () => {
      expect((await t.request('MKCOL', '/locked-col')).status).toBe(201);
      const { res, token } = await lockPath(t, '/locked-col/', { depth: '0', timeout: 'Second-600' });
      expect(res.status).toBe(200);
      expectLockTokenSubmitted(await t.request('LOCK', '/locked-col/new.txt', { headers: { ...XML_HEADERS, Timeout: 'Second-60' }, body: lockinfo('exclusive') }), '/locked-col/');
      expectLockTokenSubmitted(await t.request('LOCK', '/locked-col/new.txt', { headers: { ...XML_HEADERS, Timeout: 'Second-60' }, body: lockinfo('shared') }), '/locked-col/');
      expect(await exists('locked-col/new.txt')).toBe(false);
      const withToken = await t.request('LOCK', '/locked-col/new.txt', { headers: { ...XML_HEADERS, If: `</locked-col/> (<${token}>)`, Timeout: 'Second-60' }, body: lockinfo('exclusive') });
      expect(withToken.status).toBe(201);
      expect(await exists('locked-col/new.txt')).toBe(true);
    });

    test('LOCK below a missing parent: 409, nothing created', async () => {
      const res = await t.request('LOCK', '/no-such-dir/f.txt', { headers: { ...XML_HEADERS, Timeout: 'Second-60' }, body: lockinfo('exclusive') });
      expect(res.status).toBe(409);
      expect(await exists('no-such-dir')).toBe(false);
    });

    test('a second exclusive lock: 423 with DAV:no-conflicting-lock', async () => {
      const f = await freshFile();
      const first1 = await lockPath(t, f.path, { depth: '0' });
      expect(first1.res.status).toBe(200);
      const res = await t.request('LOCK', f.path, { headers: { ...XML_HEADERS, Depth: '0' }, body: lockinfo('exclusive') });
      expect(res.status).toBe(423);
      expect(header(res, 'lock-token')).toBeUndefined();
      const root = res.xml();
      expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
      const cond = first(root, DAV, 'no-conflicting-lock');
      expect(cond).toBeDefined();
      expect(findAll(cond!, DAV, 'href').map((h) => textOf(h).trim())).toEqual([f.path]);
      expect((await discovery(f.path)).map(activeLockToken)).toEqual([first1.token]);
    });

    test('two shared locks coexist; each holder may write', async () => {
      const f = await freshFile();
      const a = await lockPath(t, f.path, { scope: 'shared', depth: '0' });
      const b = await lockPath(t, f.path, { scope: 'shared', depth: '0' });
      expect(a.res.status).toBe(200);
      expect(b.res.status).toBe(200);
      expect(a.token).not.toBe(b.token);
      expect((await discovery(f.path)).map(activeLockToken).sort()).toEqual([a.token, b.token].sort());
      expect((await t.request('PUT', f.path, { body: 'no token' })).status).toBe(423);
      expect((await t.request('PUT', f.path, { body: 'by b', headers: ifToken(b.token) })).status).toBe(204);
      expect(await onDisk(f.rel)).toBe('by b');
    });

    test('shared then exclusive conflicts (423), and exclusive then shared too', async () => {
      const f = await freshFile();
      expect((await lockPath(t, f.path, { scope: 'shared', depth: '0' })).res.status).toBe(200);
      const ex = await t.request('LOCK', f.path, { headers: { ...XML_HEADERS, Depth: '0' }, body: lockinfo('exclusive') });
      expect(ex.status).toBe(423);
      expect(first(ex.xml(), DAV, 'no-conflicting-lock')).toBeDefined();

      const g = await freshFile();
      expect((await lockPath(t, g.path, { scope: 'exclusive', depth: '0' })).res.status).toBe(200);
      const sh = await t.request('LOCK', g.path, { headers: { ...XML_HEADERS, Depth: '0' }, body: lockinfo('shared') });
      expect(sh.status).toBe(423);
      expect(first(sh.xml(), DAV, 'no-conflicting-lock')).toBeDefined();
    });

    test.each(['Infinite', 'Second-9007199254740991'])('Timeout: %s is granted the default ceiling, 7 days (a vanished client cannot lock forever)', async (timeout) => {
      const f = await freshFile();
      const { res, token } = await lockPath(t, f.path, { depth: '0', timeout });
      expect(res.status).toBe(200);
      expect(text(res.xml(), DAV, 'timeout')?.trim()).toBe('Second-604800');
      const seen = await discovery(f.path);
      expect(activeLockToken(seen[0])).toBe(token);
      expect(text(seen[0], DAV, 'timeout')?.trim()).toBe('Second-604800');
    });

    test('with the opt-in ceiling Infinity, Timeout: Infinite is granted Infinite', async () => {
      const s = await startTestServer({ lockTimeout: { maxSeconds: Infinity } });
      try {
        expect((await s.request('PUT', '/f.txt', { body: 'x' })).status).toBe(201);
        const { res } = await lockPath(s, '/f.txt', { depth: '0', timeout: 'Infinite' });
        expect(text(res.xml(), DAV, 'timeout')?.trim()).toBe('Infinite');
      } finally {
        await s.close();
      }
    });
  });

  describe('a LOCK meeting an upload under way', () => {
    /** Waits until the upload's temporary file exists: the PUT holds its claim and has looked at the locks. */
    const uploadStarted = async (dir: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while ((await uploadTemporaries(t, dir)).length === 0) {
        if (Date.now() > deadline) throw new Error('the upload never started');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    test.each([
      ['a file being replaced, Depth 0', 'replaced.txt', '', '0'],
      ['a collection with a member being created, Depth infinity', 'box/new.txt', 'box', 'infinity'],
    ])('on %s: waits for the upload, then locks what it wrote', async (_name, target, lockRel, depth) => {
      const dir = target.includes('/') ? target.split('/')[0] : '';
      if (dir) expect((await t.request('MKCOL', `/${dir}`)).status).toBe(201);
      else expect((await t.request('PUT', `/${target}`, { body: 'before' })).status).toBe(201);
      const firstPart = 'uploaded '.padEnd(STREAMED_BODY_MIN, '.');
      const upload = putInTwoParts(t.port, `/${target}`, firstPart, 'whole');
      await uploadStarted(dir);
      let lockDone = false;
      const locking = t
        .request('LOCK', `/${lockRel || target}`, { headers: { ...XML_HEADERS, Depth: depth }, body: lockinfo('exclusive') })
        .then((res) => ((lockDone = true), res));
      // The upload looked at the locks before this LOCK came: granting it now would let the upload land on a locked resource.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(lockDone).toBe(false);
      upload.finish();
      expect(await upload.status).toBe(dir ? 201 : 204);
      const locked = await locking;
      expect(locked.status).toBe(200);
      expect(await onDisk(target)).toBe(firstPart + 'whole');
      const token = header(locked, 'lock-token')!.slice(1, -1);
      expect((await t.request('PUT', `/${target}`, { body: 'no token' })).status).toBe(423);
      expect((await t.request('PUT', `/${target}`, { body: 'with it', headers: ifToken(token) })).status).toBe(204);
      expect(await onDisk(target)).toBe('with it');
    });
  });

  test('a write that ends between the LOCK\'s look at the file and its grant: that grant is released, the LOCK claims and is granted anew', async () => {
    const f = await freshFile('looked at');
    const locks = t.server.services.locks;
    const unclaimed = locks.acquireUnlessClaimed.bind(locks);
    const firstGrants: string[] = [];
    locks.acquireUnlessClaimed = async (req, claims) => {
      await writeFile(join(t.root, f.rel), 'written meanwhile, by another process');
      const granted = await unclaimed(req, claims);
      if (granted) firstGrants.push(granted.token);
      return granted;
    };
    let res: TestResponse;
    try {
      res = await t.request('LOCK', f.path, { headers: { ...XML_HEADERS, Depth: '0' }, body: lockinfo('exclusive') });
    } finally {
      locks.acquireUnlessClaimed = unclaimed;
    }
    expect(res.status).toBe(200);
    expect(firstGrants).toHaveLength(1);
    const token = header(res, 'lock-token')!.slice(1, -1);
    expect(token).not.toBe(firstGrants[0]);
    expect((await discovery(f.path)).map(activeLockToken)).toEqual([token]);
  });

  describe('enforcement on a locked file', () => {
    let f: { path: string; rel: string };
    let token: string;
    let other: { path: string; rel: string };

    beforeAll(async () => {
      f = await freshFile('locked content');
      other = await freshFile('other content');
      ({ token } = await lockPath(t, f.path, { depth: '0', timeout: 'Second-600' }));
    });

    test('PUT without the token: 423 naming the lock root; content unchanged', async () => {
      expectLockTokenSubmitted(await t.request('PUT', f.path, { body: 'intruder' }), f.path);
      expect(await onDisk(f.rel)).toBe('locked content');
    });

    test('DELETE without the token: 423; the file stays', async () => {
      expectLockTokenSubmitted(await t.request('DELETE', f.path), f.path);
      expect(await onDisk(f.rel)).toBe('locked content');
    });

    test('MOVE of the locked file without the token: 423; nothing moved', async () => {
      expectLockTokenSubmitted(await t.request('MOVE', f.path, { headers: { Destination: dest(t, '/moved-away.txt') } }), f.path);
      expect(await onDisk(f.rel)).toBe('locked content');
      expect(await exists('moved-away.txt')).toBe(false);
    });

    test('COPY onto the locked file without the token: 423; content unchanged', async () => {
      expectLockTokenSubmitted(await t.request('COPY', other.path, { headers: { Destination: dest(t, f.path), Overwrite: 'T' } }), f.path);
      expect(await onDisk(f.rel)).toBe('locked content');
    });

    test('PROPPATCH without the token: 423; nothing stored', async () => {
      const res = await t.request('PROPPATCH', f.path, {
        headers: XML_HEADERS,
        body: propertyUpdate('<D:set><D:prop><Z:x xmlns:Z="urn:z">1</Z:x></D:prop></D:set>'),
      });
      expectLockTokenSubmitted(res, f.path);
      const got = await propfind(t, f.path, [['urn:z', 'x']]);
      expect(foundProp(got.xml(), 'urn:z', 'x')).toBeUndefined();
    });

    test('a wrong token alone makes the If header false (412, RFC 4918 §10.4.1); content unchanged', async () => {
      const res = await t.request('PUT', f.path, { body: 'intruder', headers: ifToken('urn:uuid:00000000-0000-4000-8000-000000000000') });
      expect(res.status).toBe(412);
      expect(await onDisk(f.rel)).toBe('locked content');
    });

    test('a wrong token in a true If header is still not the lock\'s token (423)', async () => {
      const res = await t.request('PUT', f.path, { body: 'intruder', headers: { If: '(<urn:uuid:00000000-0000-4000-8000-000000000000>) (Not <DAV:no-lock>)' } });
      expectLockTokenSubmitted(res, f.path);
      expect(await onDisk(f.rel)).toBe('locked content');
    });

    test('with the token PUT and PROPPATCH (If: (<T>)) and COPY onto it (tagged If) succeed', async () => {
      expect((await t.request('PUT', f.path, { body: 'owner writes', headers: ifToken(token) })).status).toBe(204);
      expect(await onDisk(f.rel)).toBe('owner writes');
      const pp = await t.request('PROPPATCH', f.path, {
        headers: { ...XML_HEADERS, ...ifToken(token) },
        body: propertyUpdate('<D:set><D:prop><Z:x xmlns:Z="urn:z">1</Z:x></D:prop></D:set>'),
      });
      expect(pp.status).toBe(207);
      const got = await propfind(t, f.path, [['urn:z', 'x']]);
      expect(textOf(foundProp(got.xml(), 'urn:z', 'x')!)).toBe('1');
      // The untagged list would be about the source (RFC 4918 §10.4.3): name the destination with a tag.
      const cp = await t.request('COPY', other.path, { headers: { Destination: dest(t, f.path), Overwrite: 'T', If: `<${dest(t, f.path)}> (<${token}>)` } });
      expect(cp.status).toBe(204);
      expect(await onDisk(f.rel)).toBe('other content');
      // The lock on the URL stays after it was overwritten by COPY.
      expect((await discovery(f.path)).map(activeLockToken)).toEqual([token]);
    });

    test.each(['MOVE', 'COPY'])('%s with Overwrite: T onto a collection: the locks of its deleted members go with them, the lock on its URL stays', async (method) => {
      const base = `/replaced-${method.toLowerCase()}`;
      for (const dir of [base, `${base}/dst`, `${base}/dst/sub`, `${base}/src`]) expect((await t.request('MKCOL', `${dir}/`)).status).toBe(201);
      expect((await t.request('PUT', `${base}/dst/sub/f.txt`, { body: 'old' })).status).toBe(201);
      expect((await t.request('PUT', `${base}/src/other.txt`, { body: 'new' })).status).toBe(201);
      const member = await lockPath(t, `${base}/dst/sub/f.txt`, { depth: '0', timeout: 'Second-600' });
      const top = await lockPath(t, `${base}/dst/`, { depth: '0', timeout: 'Second-600' });
      expect([member.res.status, top.res.status]).toEqual([200, 200]);
      const submitted = `<${dest(t, `${base}/dst/`)}> (<${top.token}>) <${dest(t, `${base}/dst/sub/f.txt`)}> (<${member.token}>)`;
      const res = await t.request(method, `${base}/src/`, { headers: { Destination: dest(t, `${base}/dst/`), Overwrite: 'T', If: submitted } });
      expect(res.status).toBe(204);
      // §9.6.1: the member was deleted, and its lock with it: the URL is free for whoever creates it again.
      expect((await t.request('UNLOCK', `${base}/dst/sub/f.txt`, { headers: { 'Lock-Token': `<${member.token}>` } })).status).toBe(409);
      expect((await t.request('MKCOL', `${base}/dst/sub/`, { headers: { If: `<${dest(t, `${base}/dst/`)}> (<${top.token}>)` } })).status).toBe(201);
      expect((await t.request('PUT', `${base}/dst/sub/f.txt`, { body: 'again' })).status).toBe(201);
      expect(await onDisk(`${base.slice(1)}/dst/sub/f.txt`)).toBe('again');
      // §7.6: the lock on the destination's URL stays.
      expect((await discovery(`${base}/dst/`)).map(activeLockToken)).toEqual([top.token]);
    });
  });

  describe('depth-infinity lock on a collection', () => {
    let token: string;

    beforeAll(async () => {
      expect((await t.request('MKCOL', '/coll/')).status).toBe(201);
      expect((await t.request('PUT', '/coll/existing.txt', { body: 'e' })).status).toBe(201);
      const { res, token: tk } = await lockPath(t, '/coll/', { depth: 'infinity', timeout: 'Second-600' });
      expect(res.status).toBe(200);
      expect(text(res.xml(), DAV, 'depth')?.trim()).toBe('infinity');
      expect(text(first(res.xml(), DAV, 'lockroot')!, DAV, 'href')?.trim()).toBe('/coll/');
      token = tk;
    });

    test('creating a member without the token: 423 naming the collection; nothing created', async () => {
      expectLockTokenSubmitted(await t.request('PUT', '/coll/new.txt', { body: 'n' }), '/coll/');
      expect(await exists('coll/new.txt')).toBe(false);
      expectLockTokenSubmitted(await t.request('MKCOL', '/coll/newdir/'), '/coll/');
      expect(await exists('coll/newdir')).toBe(false);
    });

    test('changing an existing member without the token: 423 naming the collection', async () => {
      expectLockTokenSubmitted(await t.request('PUT', '/coll/existing.txt', { body: 'x' }), '/coll/');
      expect(await onDisk('coll/existing.txt')).toBe('e');
    });

    test('members show the inherited lock with its root in lockdiscovery', async () => {
      const seen = await discovery('/coll/existing.txt');
      expect(seen.map(activeLockToken)).toEqual([token]);
      expect(text(first(seen[0], DAV, 'lockroot')!, DAV, 'href')?.trim()).toBe('/coll/');
    });

    test('with the token: 201', async () => {
      expect((await t.request('PUT', '/coll/new.txt', { body: 'n', headers: ifToken(token) })).status).toBe(201);
      expect(await onDisk('coll/new.txt')).toBe('n');
    });

    test('an exclusive lock on a member conflicts with the collection lock', async () => {
      const res = await t.request('LOCK', '/coll/existing.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body: lockinfo('exclusive') });
      expect(res.status).toBe(423);
      expect(findAll(first(res.xml(), DAV, 'no-conflicting-lock')!, DAV, 'href').map((h) => textOf(h).trim())).toEqual(['/coll/']);
    });

    test('UNLOCK through a member URL (the lock covers it) removes the lock', async () => {
      expect((await t.request('UNLOCK', '/coll/existing.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
      expect((await t.request('PUT', '/coll/after.txt', { body: 'a' })).status).toBe(201);
    });
  });

  test('a lock root with a space and é is named percent-encoded in 423 and lockdiscovery', async () => {
    expect((await t.request('MKCOL', '/lock%20dir%20%C3%A9/')).status).toBe(201);
    const { res, token } = await lockPath(t, '/lock%20dir%20%C3%A9/', { depth: 'infinity', timeout: 'Second-600' });
    expect(res.status).toBe(200);
    expect(text(first(res.xml(), DAV, 'lockroot')!, DAV, 'href')?.trim()).toBe('/lock%20dir%20%C3%A9/');
    expectLockTokenSubmitted(await t.request('PUT', '/lock%20dir%20%C3%A9/m.txt', { body: 'm' }), '/lock%20dir%20%C3%A9/');
    expect(await exists('lock dir é/m.txt')).toBe(false);
    expect((await t.request('PUT', '/lock%20dir%20%C3%A9/m.txt', { body: 'm', headers: ifToken(token) })).status).toBe(201);
    expect(await onDisk('lock dir é/m.txt')).toBe('m');
  });

  describe('refresh', () => {
    let f: { path: string; rel: string };
    let token: string;

    beforeAll(async () => {
      f = await freshFile();
      ({ token } = await lockPath(t, f.path, { depth: '0', timeout: 'Second-100' }));
    });

    test('If: (<T>) with no body: 200, no Lock-Token header, the new timeout', async () => {
      const res = await t.request('LOCK', f.path, { headers: { If: `(<${token}>)`, Timeout: 'Second-500' } });
      expect(res.status).toBe(200);
      expect(header(res, 'lock-token')).toBeUndefined();
      const locks = activeLocks(res.xml());
      expect(locks.map(activeLockToken)).toEqual([token]);
      const secs = Number(/^Second-(\d+)$/.exec(text(locks[0], DAV, 'timeout')!.trim())?.[1]);
      expect(secs).toBeGreaterThan(490);
      expect(secs).toBeLessThanOrEqual(500);
      const seen = await discovery(f.path);
      expect(Number(/^Second-(\d+)$/.exec(text(seen[0], DAV, 'timeout')!.trim())?.[1])).toBeGreaterThan(490);
    });

    test('the header line "If:(<T>)" with no space after the colon also refreshes', async () => {
      const res = await rawRequest(
        t.port,
        `LOCK ${f.path} HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nIf:(<${token}>)\r\nTimeout: Second-700\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status).toBe(200);
      expect(res.headers['lock-token']).toBeUndefined();
      const seen = await discovery(f.path);
      const secs = Number(/^Second-(\d+)$/.exec(text(seen[0], DAV, 'timeout')!.trim())?.[1]);
      expect(secs).toBeGreaterThan(690);
      expect(secs).toBeLessThanOrEqual(700);
    });

    test('refresh with an unknown token: 412, the lock unchanged', async () => {
      const res = await t.request('LOCK', f.path, { headers: { If: '(<urn:uuid:11111111-2222-4333-8444-555555555555>)', Timeout: 'Second-900' } });
      expect(res.status).toBe(412);
      expect((await discovery(f.path)).map(activeLockToken)).toEqual([token]);
    });
  });

  describe('UNLOCK', () => {
    test('with the token: 204, and the file is writable again', async () => {
      const f = await freshFile();
      const { token } = await lockPath(t, f.path, { depth: '0' });
      expect((await t.request('UNLOCK', f.path, { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
      expect(await discovery(f.path)).toEqual([]);
      expect((await t.request('PUT', f.path, { body: 'free' })).status).toBe(204);
      expect(await onDisk(f.rel)).toBe('free');
    });

    test('with a bogus token: 409 with DAV:lock-token-matches-request-uri; the lock stays', async () => {
      const f = await freshFile();
      const { token } = await lockPath(t, f.path, { depth: '0' });
      const res = await t.request('UNLOCK', f.path, { headers: { 'Lock-Token': '<urn:uuid:99999999-2222-4333-8444-555555555555>' } });
      expect(res.status).toBe(409);
      const root = res.xml();
      expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
      expect(first(root, DAV, 'lock-token-matches-request-uri')).toBeDefined();
      expect((await discovery(f.path)).map(activeLockToken)).toEqual([token]);
    });

    test('with a token of a lock on another resource: 409', async () => {
      const f = await freshFile();
      const g = await freshFile();
      const { token } = await lockPath(t, g.path, { depth: '0' });
      const res = await t.request('UNLOCK', f.path, { headers: { 'Lock-Token': `<${token}>` } });
      expect(res.status).toBe(409);
      expect(first(res.xml(), DAV, 'lock-token-matches-request-uri')).toBeDefined();
      expect((await discovery(g.path)).map(activeLockToken)).toEqual([token]);
    });

    test('with the token without <> (Windows): 204', async () => {
      const f = await freshFile();
      const { token } = await lockPath(t, f.path, { depth: '0' });
      expect((await t.request('UNLOCK', f.path, { headers: { 'Lock-Token': token } })).status).toBe(204);
      expect(await discovery(f.path)).toEqual([]);
    });
  });

  test('Timeout: Second-2: 2 s later by the server clock the lock no longer applies and lockdiscovery is empty', async () => {
    const f = await freshFile();
    const { res, token } = await lockPath(t, f.path, { depth: '0', timeout: 'Second-2' });
    expect(res.status).toBe(200);
    expect(text(res.xml(), DAV, 'timeout')?.trim()).toMatch(/^Second-[12]$/);
    expect((await t.request('PUT', f.path, { body: 'too early' })).status).toBe(423);
    t.clock.advance(1500);
    // PROPFIND reckons the remaining timeout by the same clock (RFC 4918 §14.29).
    expect(text((await discovery(f.path))[0], DAV, 'timeout')?.trim()).toMatch(/^Second-[01]$/);
    expect((await t.request('PUT', f.path, { body: 'still too early' })).status).toBe(423);
    t.clock.advance(500);
    expect(await discovery(f.path)).toEqual([]);
    expect((await t.request('PUT', f.path, { body: 'after expiry' })).status).toBe(204);
    expect(await onDisk(f.rel)).toBe('after expiry');
    // The expired token no longer unlocks anything.
    expect((await t.request('UNLOCK', f.path, { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(409);
  });

  test('locks survive a restart', async () => {
    const f = await freshFile('before restart');
    const { token } = await lockPath(t, f.path, { depth: '0', timeout: 'Second-3600', owner: '<D:href>mailto:bob@example.org</D:href>' });
    await t.restart();
    expectLockTokenSubmitted(await t.request('PUT', f.path, { body: 'after restart' }), f.path);
    expect(await onDisk(f.rel)).toBe('before restart');
    const seen = await discovery(f.path);
    expect(seen.map(activeLockToken)).toEqual([token]);
    expect(textOf(first(seen[0], DAV, 'owner')!)).toBe('mailto:bob@example.org');
    expect((await t.request('PUT', f.path, { body: 'owner after restart', headers: ifToken(token) })).status).toBe(204);
  });

  test('DELETE of a locked file with its token removes the lock too', async () => {
    const f = await freshFile();
    const { token } = await lockPath(t, f.path, { depth: '0' });
    expect((await t.request('DELETE', f.path, { headers: ifToken(token) })).status).toBe(204);
    expect(await exists(f.rel)).toBe(false);
    expect((await t.request('PUT', f.path, { body: 'recreated' })).status).toBe(201);
    expect(await discovery(f.path)).toEqual([]);
  });

  test('MOVE of a locked file with the token: the lock does not move (nor stay on the old URL)', async () => {
    const f = await freshFile('moving');
    const { token } = await lockPath(t, f.path, { depth: '0' });
    const res = await t.request('MOVE', f.path, { headers: { Destination: dest(t, '/moved-locked.txt'), ...ifToken(token) } });
    expect(res.status).toBe(201);
    expect(await onDisk('moved-locked.txt')).toBe('moving');
    expect(await exists(f.rel)).toBe(false);
    expect(await discovery('/moved-locked.txt')).toEqual([]);
    expect((await t.request('PUT', '/moved-locked.txt', { body: 'anyone' })).status).toBe(204);
    expect((await t.request('PUT', f.path, { body: 'new at old url' })).status).toBe(201);
  });

  test('COPY does not copy locks', async () => {
    const f = await freshFile('copied');
    const { token } = await lockPath(t, f.path, { depth: '0' });
    const res = await t.request('COPY', f.path, { headers: { Destination: dest(t, '/copy-of-locked.txt') } });
    expect(res.status).toBe(201);
    expect(await onDisk('copy-of-locked.txt')).toBe('copied');
    expect(await discovery('/copy-of-locked.txt')).toEqual([]);
    expect((await t.request('PUT', '/copy-of-locked.txt', { body: 'anyone' })).status).toBe(204);
    expect((await discovery(f.path)).map(activeLockToken)).toEqual([token]);
  });
});
