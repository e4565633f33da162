/**
 * Conditional requests over HTTP: RFC 9110 §13 (If-Match, If-None-Match, If-Unmodified-Since),
 * the conflict answer format of semantics.md (DAV:error with the keepdav element, or
 * application/problem+json), the RFC 4918 §10.4 If header as litmus exercises it, and the
 * COPY/MOVE conditions of §9.8 and §9.9 (Overwrite, parents, same resource, other host, Depth).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, first, text } from '../support/xmlQuery';
import { KEEPDAV_NS } from '../../src/conditions/davError';
import { dest, header, lockPath } from '../support/davHttpKit';

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe('conditions', () => {
  let t: TestServer;
  let n = 0;

  const freshFile = async (content = 'v1', headers: Record<string, string> = {}): Promise<{ path: string; rel: string; etag: string }> => {
    n += 1;
    const rel = `c${n}.txt`;
    const res = await t.request('PUT', `/${rel}`, { body: content, headers });
    expect(res.status).toBe(201);
    return { path: `/${rel}`, rel, etag: header(res, 'etag')! };
  };
  const onDisk = (rel: string): Promise<string> => readFile(join(t.root, rel), 'utf8');
  const exists = (rel: string): Promise<boolean> => stat(join(t.root, rel)).then(() => true, () => false);
  const currentEtag = async (path: string): Promise<string> => header(await t.request('HEAD', path), 'etag')!;

  /** Asserts a plain (non-207) DAV:error body carrying the keepdav code. */
  function expectKeepdavError(res: TestResponse, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(header(res, 'content-type')).toMatch(/xml/);
    const root = res.xml();
    expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
    const conflict = first(root, KEEPDAV_NS, 'conflict');
    expect(conflict).toBeDefined();
    expect(text(conflict!, KEEPDAV_NS, 'code')).toBe(code);
  }

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('RFC 9110 conditional headers on PUT', () => {
    test('If-Match with the current ETag: 204, new content', async () => {
      const f = await freshFile();
      const res = await t.request('PUT', f.path, { body: 'v2', headers: { 'If-Match': f.etag } });
      expect(res.status).toBe(204);
      expect(header(res, 'etag')).not.toBe(f.etag);
      expect(await onDisk(f.rel)).toBe('v2');
    });

    test('If-Match with a stale ETag: 412, DAV:error with keepdav precondition-failed, current ETag and Last-Modified headers', async () => {
      const f = await freshFile('v1', { 'X-OC-Mtime': '1700000000' });
      const second = await t.request('PUT', f.path, { body: 'v2', headers: { 'X-OC-Mtime': '1700000100' } });
      expect(second.status).toBe(204);
      const current = header(second, 'etag')!;
      const res = await t.request('PUT', f.path, { body: 'stale writer', headers: { 'If-Match': f.etag } });
      expectKeepdavError(res, 412, 'precondition-failed');
      expect(header(res, 'etag')).toBe(current);
      expect(header(res, 'last-modified')).toBe('Tue, 14 Nov 2023 22:15:00 GMT');
      expect(header(res, 'last-modified')).toMatch(RFC1123);
      expect(await onDisk(f.rel)).toBe('v2');
    });

    test('If-Match on a missing resource: 412 and nothing created', async () => {
      const res = await t.request('PUT', '/never-there.txt', { body: 'x', headers: { 'If-Match': '"whatever"' } });
      expect(res.status).toBe(412);
      expect(await exists('never-there.txt')).toBe(false);
    });

    test('If-None-Match: * on an existing file: 412, content unchanged', async () => {
      const f = await freshFile('keep me');
      const res = await t.request('PUT', f.path, { body: 'overwrite', headers: { 'If-None-Match': '*' } });
      expectKeepdavError(res, 412, 'precondition-failed');
      expect(await onDisk(f.rel)).toBe('keep me');
    });

    test('If-None-Match: * on a new file: 201', async () => {
      const res = await t.request('PUT', '/inm-new.txt', { body: 'fresh', headers: { 'If-None-Match': '*' } });
      expect(res.status).toBe(201);
      expect(await onDisk('inm-new.txt')).toBe('fresh');
    });

    test('If-Unmodified-Since older than the file: 412; newer: 204', async () => {
      const f = await freshFile('v1', { 'X-OC-Mtime': '1700000000' });
      const old = await t.request('PUT', f.path, { body: 'v2', headers: { 'If-Unmodified-Since': 'Sat, 01 Jan 2000 00:00:00 GMT' } });
      expectKeepdavError(old, 412, 'precondition-failed');
      expect(await onDisk(f.rel)).toBe('v1');
      const later = await t.request('PUT', f.path, { body: 'v2', headers: { 'If-Unmodified-Since': 'Wed, 15 Nov 2023 00:00:00 GMT' } });
      expect(later.status).toBe(204);
      expect(await onDisk(f.rel)).toBe('v2');
    });

    test('Accept: application/problem+json gets an RFC 9457 body with the same facts', async () => {
      const f = await freshFile();
      const current = await currentEtag(f.path);
      const res = await t.request('PUT', f.path, { body: 'x', headers: { 'If-Match': '"stale-etag"', Accept: 'application/problem+json' } });
      expect(res.status).toBe(412);
      expect(header(res, 'content-type')).toMatch(/^application\/problem\+json\b/);
      const problem = JSON.parse(res.text) as Record<string, unknown>;
      expect(typeof problem.type).toBe('string');
      expect((problem.type as string).length).toBeGreaterThan(0);
      expect(typeof problem.title).toBe('string');
      expect(problem.status).toBe(412);
      expect(typeof problem.detail).toBe('string');
      expect(problem.code).toBe('precondition-failed');
      expect(problem.etag).toBe(current);
      expect(header(res, 'etag')).toBe(current);
      expect(await onDisk(f.rel)).toBe('v1');
    });
  });

  describe('If header on a locked file (litmus cond_put family)', () => {
    let f: { path: string; rel: string; etag: string };
    let token: string;
    const put = (ifValue: string, body: string) => t.request('PUT', f.path, { body, headers: { If: ifValue } });

    beforeAll(async () => {
      f = await freshFile('locked');
      ({ token } = await lockPath(t, f.path, { depth: '0', timeout: 'Second-600' }));
    });

    test('(<T> [E]): 2xx', async () => {
      const etag = await currentEtag(f.path);
      const res = await put(`(<${token}> [${etag}])`, 'cond_put');
      expect(res.status).toBe(204);
      expect(await onDisk(f.rel)).toBe('cond_put');
    });

    test('(<DAV:no-lock> [E]): 412', async () => {
      const etag = await currentEtag(f.path);
      const res = await put(`(<DAV:no-lock> [${etag}])`, 'fail_cond_put');
      expect(res.status).toBe(412);
      expect(await onDisk(f.rel)).toBe('cond_put');
    });

    test('(<T>) (Not <DAV:no-lock>): 2xx', async () => {
      const res = await put(`(<${token}>) (Not <DAV:no-lock>)`, 'cond_put_with_not');
      expect(res.status).toBe(204);
      expect(await onDisk(f.rel)).toBe('cond_put_with_not');
    });

    test('(<Tx>) (Not <DAV:no-lock>): 423 (the header is true, but the token was not submitted)', async () => {
      const res = await put(`(<${token}x>) (Not <DAV:no-lock>)`, 'cond_put_corrupt_token');
      expect(res.status).toBe(423);
      expect(first(res.xml(), DAV, 'lock-token-submitted')).toBeDefined();
      expect(await onDisk(f.rel)).toBe('cond_put_with_not');
    });

    test('(<T> [Ebad]) (Not <DAV:no-lock> [Ebad]): 412', async () => {
      const bad = '"this-is-not-the-etag"';
      const res = await put(`(<${token}> [${bad}]) (Not <DAV:no-lock> [${bad}])`, 'fail_complex_cond_put');
      expect(res.status).toBe(412);
      expect(await onDisk(f.rel)).toBe('cond_put_with_not');
    });

    test('(<T> [E]) (Not <DAV:no-lock> [E]): 2xx (complex_cond_put)', async () => {
      const etag = await currentEtag(f.path);
      const res = await put(`(<${token}> [${etag}]) (Not <DAV:no-lock> [${etag}])`, 'complex_cond_put');
      expect(res.status).toBe(204);
      expect(await onDisk(f.rel)).toBe('complex_cond_put');
    });
  });

  describe('tagged If lists and stale tokens', () => {
    test('a tagged list about another resource is evaluated against that resource', async () => {
      const other = await freshFile('other');
      const target = await freshFile('target');
      const { token: t2 } = await lockPath(t, other.path, { depth: '0', timeout: 'Second-600' });
      // True: the other resource is locked with T2; the target is not locked, so no 423.
      const ok = await t.request('PUT', target.path, { body: 'tagged ok', headers: { If: `<${dest(t, other.path)}> (<${t2}>)` } });
      expect(ok.status).toBe(204);
      expect(await onDisk(target.rel)).toBe('tagged ok');
      // False: T2 does not lock the target itself.
      const wrongTag = await t.request('PUT', target.path, { body: 'tagged bad', headers: { If: `<${dest(t, target.path)}> (<${t2}>)` } });
      expect(wrongTag.status).toBe(412);
      // False: a made-up token for the other resource.
      const wrongToken = await t.request('PUT', target.path, {
        body: 'tagged bad',
        headers: { If: `<${dest(t, other.path)}> (<urn:uuid:12345678-1234-4234-8234-123456789abc>)` },
      });
      expect(wrongToken.status).toBe(412);
      expect(await onDisk(target.rel)).toBe('tagged ok');
    });

    test('If: (<urn:uuid:expired>) on an unlocked file: 412, content unchanged', async () => {
      const f = await freshFile('unlocked');
      const res = await t.request('PUT', f.path, { body: 'x', headers: { If: '(<urn:uuid:expired>)' } });
      expect(res.status).toBe(412);
      expect(await onDisk(f.rel)).toBe('unlocked');
    });
  });

  describe('COPY and MOVE conditions', () => {
    test.each(['COPY', 'MOVE'])('%s with Overwrite: F onto an existing resource: a plain 412, destination and source unchanged', async (method) => {
      const src = await freshFile('source');
      const dst = await freshFile('destination');
      const res = await t.request(method, src.path, { headers: { Destination: dest(t, dst.path), Overwrite: 'F' } });
      expect(res.status).toBe(412);
      expect(res.status).not.toBe(207);
      const root = res.xml();
      expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
      expect(await onDisk(dst.rel)).toBe('destination');
      expect(await onDisk(src.rel)).toBe('source');
    });

    test.each(['COPY', 'MOVE'])('%s to a missing destination parent: 409, nothing created', async (method) => {
      const src = await freshFile('source');
      const res = await t.request(method, src.path, { headers: { Destination: dest(t, '/no-parent/x.txt') } });
      expect(res.status).toBe(409);
      expect(await exists('no-parent')).toBe(false);
      expect(await onDisk(src.rel)).toBe('source');
    });

    test.each(['COPY', 'MOVE'])('%s onto itself: 403', async (method) => {
      const src = await freshFile('self');
      const res = await t.request(method, src.path, { headers: { Destination: dest(t, src.path) } });
      expect(res.status).toBe(403);
      expect(await onDisk(src.rel)).toBe('self');
    });

    test.each(['COPY', 'MOVE'])('%s of a collection into itself: 403, nothing created', async (method) => {
      const coll = `/self-${method.toLowerCase()}/`;
      expect((await t.request('MKCOL', coll)).status).toBe(201);
      expect((await t.request('PUT', `${coll}m.txt`, { body: 'm' })).status).toBe(201);
      const res = await t.request(method, coll, { headers: { Destination: dest(t, `${coll}inner/`) } });
      expect(res.status).toBe(403);
      expect((await readdir(join(t.root, coll))).sort()).toEqual(['m.txt']);
    });

    test.each(['COPY', 'MOVE'])('%s to another host: 502', async (method) => {
      const src = await freshFile('stay');
      const res = await t.request(method, src.path, { headers: { Destination: 'http://other.example.com:8081/elsewhere.txt' } });
      expect(res.status).toBe(502);
      expect(await onDisk(src.rel)).toBe('stay');
    });

    test('MOVE without an Overwrite header onto an existing file: 204, the destination holds the source content', async () => {
      const src = await freshFile('from source');
      const dst = await freshFile('old destination');
      const res = await t.request('MOVE', src.path, { headers: { Destination: dest(t, dst.path) } });
      expect(res.status).toBe(204);
      expect(await onDisk(dst.rel)).toBe('from source');
      expect(await exists(src.rel)).toBe(false);
    });

    test('COPY Depth 0 of a collection copies the collection and none of its members', async () => {
      expect((await t.request('MKCOL', '/d0src/')).status).toBe(201);
      expect((await t.request('PUT', '/d0src/member.txt', { body: 'm' })).status).toBe(201);
      expect((await t.request('MKCOL', '/d0src/subdir/')).status).toBe(201);
      const res = await t.request('COPY', '/d0src/', { headers: { Destination: dest(t, '/d0dst/'), Depth: '0' } });
      expect(res.status).toBe(201);
      expect((await stat(join(t.root, 'd0dst'))).isDirectory()).toBe(true);
      expect(await readdir(join(t.root, 'd0dst'))).toEqual([]);
      expect((await readdir(join(t.root, 'd0src'))).sort()).toEqual(['member.txt', 'subdir']);
    });

    test('COPY Depth 1: 400, nothing created', async () => {
      expect((await t.request('MKCOL', '/d1src/')).status).toBe(201);
      const res = await t.request('COPY', '/d1src/', { headers: { Destination: dest(t, '/d1dst/'), Depth: '1' } });
      expect(res.status).toBe(400);
      expect(await exists('d1dst')).toBe(false);
    });

    test('MOVE Depth 0: of a file it moves the file (§9.9.2 speaks of collections only), of a collection it is 400 and nothing moves', async () => {
      expect((await t.request('PUT', '/d0file.txt', { body: 'f' })).status).toBe(201);
      expect((await t.request('MOVE', '/d0file.txt', { headers: { Destination: dest(t, '/d0moved.txt'), Depth: '0' } })).status).toBe(201);
      expect(await exists('d0moved.txt')).toBe(true);
      expect(await exists('d0file.txt')).toBe(false);
      expect((await t.request('MKCOL', '/d0col/')).status).toBe(201);
      expect((await t.request('MOVE', '/d0col/', { headers: { Destination: dest(t, '/d0colmoved/'), Depth: '0' } })).status).toBe(400);
      expect(await exists('d0col')).toBe(true);
      expect(await exists('d0colmoved')).toBe(false);
    });
  });
});
