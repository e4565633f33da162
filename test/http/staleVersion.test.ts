/**
 * Stale uploads and the mtime channels (semantics.md "Versions", "Stale uploads", "rclone deletes
 * what it failed to upload"): X-OC-Mtime on PUT sets the stored mtime and the ETag is computed
 * after it; a PUT stating an older time is 409 stale-version (unless If-Match names the current
 * ETag, or it fills a 0-byte placeholder under the requester's own lock), and the same client's
 * clean-up DELETE right after is 409 stale-delete. Mtime-only changes keep the ETag.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { DAV, first, text } from '../support/xmlQuery';
import { codeOf, conflictFields, hdr, propOf, SABRE } from '../support/conflictKit';
import { dest, lockPath } from '../support/davHttpKit';
import { uploadTemporaries } from '../support/uploadTemporaries';

const T_NEW = 1700000000;
const T_NEW_HTTP = 'Tue, 14 Nov 2023 22:13:20 GMT';
const T_OLD = 1600000000;
const RCLONE = 'rclone/v1.66.0';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

async function mtimeSeconds(rel: string): Promise<number> {
  return Math.floor((await stat(join(t.root, rel))).mtimeMs / 1000);
}

async function putWithMtime(path: string, body: string | Buffer, mtime: number, headers: Record<string, string> = {}): Promise<TestResponse> {
  return t.request('PUT', path, { body, headers: { 'X-OC-Mtime': String(mtime), ...headers } });
}

/** A fresh file at `path` stored with mtime T_NEW; returns its ETag. */
async function freshFile(path: string, body = `newer content of ${path}`): Promise<string> {
  const res = await putWithMtime(path, body, T_NEW);
  expect([201, 204]).toContain(res.status);
  return hdr(res, 'etag')!;
}

async function noTempFiles(): Promise<void> {
  expect(await uploadTemporaries(t)).toEqual([]);
}

describe('X-OC-Mtime on PUT', () => {
  it('sets the mtime on disk, answers X-OC-MTime: accepted, and the ETag is computed after the mtime', async () => {
    const res = await putWithMtime('/m.txt', 'hello mtime', T_NEW);
    expect(res.status).toBe(201);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    const etag = hdr(res, 'etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(hdr(res, 'last-modified')).toBe(T_NEW_HTTP);
    const st = await stat(join(t.root, 'm.txt'));
    expect(st.mtimeMs).toBe(T_NEW * 1000);
    expect(await readFile(join(t.root, 'm.txt'), 'utf8')).toBe('hello mtime');

    const lm = await propOf(t, '/m.txt', DAV, 'getlastmodified');
    expect(lm.value).toBe(T_NEW_HTTP);
    const pe = await propOf(t, '/m.txt', DAV, 'getetag');
    expect(pe.value).toBe(etag);
    const get = await t.request('GET', '/m.txt');
    expect(hdr(get, 'etag')).toBe(etag);
    expect(hdr(get, 'last-modified')).toBe(T_NEW_HTTP);
  });

  it('the ETag stays the same across a restart (it was recorded with the final mtime)', async () => {
    const etag = await freshFile('/m-restart.txt');
    await t.restart();
    expect((await propOf(t, '/m-restart.txt', DAV, 'getetag')).value).toBe(etag);
    expect(hdr(await t.request('HEAD', '/m-restart.txt'), 'etag')).toBe(etag);
  });
});

describe('stale-version', () => {
  it('an older X-OC-Mtime is 409 stale-version with a DAV:error body, current ETag/Last-Modified, and nothing is written', async () => {
    const etag = await freshFile('/stale.txt', 'the newer bytes');
    const before = await readFile(join(t.root, 'stale.txt'));
    const res = await putWithMtime('/stale.txt', 'OLDER BYTES, MUST NOT LAND', T_OLD);
    expect(res.status).toBe(409);
    expect(hdr(res, 'x-oc-mtime')).toBeUndefined();
    expect(hdr(res, 'etag')).toBe(etag);
    expect(hdr(res, 'last-modified')).toBe(T_NEW_HTTP);
    expect(hdr(res, 'content-type')).toMatch(/xml/);

    const xml = res.xml();
    expect(xml.ns).toBe(DAV);
    expect(xml.local).toBe('error');
    expect((text(xml, SABRE, 'message') ?? '').length).toBeGreaterThan(10);
    expect(first(xml, SABRE, 'exception')).toBeDefined();
    const c = conflictFields(res);
    expect(c.code).toBe('stale-version');
    expect(c.status).toBe('409');
    expect(c.declaredmtime).toBe(String(T_OLD));
    expect(c.etag).toBe(etag);
    expect(c.mtime).toBe(String(T_NEW));
    expect(c.lastmodified).toBe(T_NEW_HTTP);
    expect(c.version).toBeTruthy();
    expect(etag).toContain(c.version);

    const after = await readFile(join(t.root, 'stale.txt'));
    expect(after.equals(before)).toBe(true);
    expect(await mtimeSeconds('stale.txt')).toBe(T_NEW);
    expect(hdr(await t.request('HEAD', '/stale.txt'), 'etag')).toBe(etag);
    await noTempFiles();
  });

  it('with Accept: application/problem+json the same fields come as RFC 9457 JSON', async () => {
    const etag = await freshFile('/stale-json.txt');
    const res = await putWithMtime('/stale-json.txt', 'older', T_OLD, { Accept: 'application/problem+json' });
    expect(res.status).toBe(409);
    expect(hdr(res, 'content-type')).toMatch(/^application\/problem\+json/);
    expect(hdr(res, 'etag')).toBe(etag);
    expect(hdr(res, 'last-modified')).toBe(T_NEW_HTTP);
    const p = JSON.parse(res.text) as Record<string, unknown>;
    expect(p.code).toBe('stale-version');
    expect(p.status).toBe(409);
    expect(typeof p.type).toBe('string');
    expect(typeof p.title).toBe('string');
    expect(typeof p.detail).toBe('string');
    expect(String(p.declaredmtime)).toBe(String(T_OLD));
    expect(p.etag).toBe(etag);
    expect(String(p.mtime)).toBe(String(T_NEW));
    expect(p.lastmodified).toBe(T_NEW_HTTP);
    expect(p.version).toBeTruthy();
    expect(await readFile(join(t.root, 'stale-json.txt'), 'utf8')).toBe('newer content of /stale-json.txt');
  });

  it('the same time is accepted', async () => {
    await freshFile('/same.txt');
    const res = await putWithMtime('/same.txt', 'same-second rewrite', T_NEW);
    expect(res.status).toBe(204);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(await readFile(join(t.root, 'same.txt'), 'utf8')).toBe('same-second rewrite');
  });

  it('a newer time is accepted and stored', async () => {
    await freshFile('/newer.txt');
    const res = await putWithMtime('/newer.txt', 'even newer', T_NEW + 3600);
    expect(res.status).toBe(204);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(await readFile(join(t.root, 'newer.txt'), 'utf8')).toBe('even newer');
    expect(await mtimeSeconds('newer.txt')).toBe(T_NEW + 3600);
  });

  it('an older time with If-Match naming the current ETag is accepted (the client saw the current version)', async () => {
    const etag = await freshFile('/override.txt');
    const res = await putWithMtime('/override.txt', 'deliberately older', T_OLD, { 'If-Match': etag });
    expect(res.status).toBe(204);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(hdr(res, 'etag')).not.toBe(etag);
    expect(await readFile(join(t.root, 'override.txt'), 'utf8')).toBe('deliberately older');
    expect(await mtimeSeconds('override.txt')).toBe(T_OLD);
  });

  it('an older time with If-Match: * is still 409 (it names no version)', async () => {
    const etag = await freshFile('/star.txt');
    const res = await putWithMtime('/star.txt', 'older', T_OLD, { 'If-Match': '*' });
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('stale-version');
    expect(hdr(res, 'etag')).toBe(etag);
    expect(await readFile(join(t.root, 'star.txt'), 'utf8')).toBe('newer content of /star.txt');
  });

  it('an older time with If-Match naming another ETag is 412, not written', async () => {
    await freshFile('/other-etag.txt');
    const res = await putWithMtime('/other-etag.txt', 'older', T_OLD, { 'If-Match': '"not-the-current-one"' });
    expect(res.status).toBe(412);
    expect(await readFile(join(t.root, 'other-etag.txt'), 'utf8')).toBe('newer content of /other-etag.txt');
  });

  it('a PUT that states no time is never refused for age', async () => {
    await freshFile('/notime.txt');
    const res = await t.request('PUT', '/notime.txt', { body: 'from a client that states no time' });
    expect(res.status).toBe(204);
    expect(hdr(res, 'x-oc-mtime')).toBeUndefined();
    expect(await readFile(join(t.root, 'notime.txt'), 'utf8')).toBe('from a client that states no time');
  });

  it('creating a new file with an old time is fine (nothing to be stale against)', async () => {
    const res = await putWithMtime('/brand-new-old.txt', 'old but new here', T_OLD);
    expect(res.status).toBe(201);
    expect(await mtimeSeconds('brand-new-old.txt')).toBe(T_OLD);
  });

  it('times compare at one-second resolution: a fractional stored mtime does not make the same second stale', async () => {
    expect((await putWithMtime('/frac.txt', 'a', T_NEW + 0.9)).status).toBe(201);
    const res = await t.request('PUT', '/frac.txt', { body: 'b', headers: { 'X-OC-Mtime': String(T_NEW) } });
    expect(res.status).toBe(204);
    const older = await t.request('PUT', '/frac.txt', { body: 'c', headers: { 'X-OC-Mtime': `${T_NEW - 1}.999` } });
    expect(older.status).toBe(409);
    expect(await readFile(join(t.root, 'frac.txt'), 'utf8')).toBe('b');
  });

  it('with staleUploadCheck: false the older upload is accepted', async () => {
    const other = await startTestServer({ staleUploadCheck: false });
    try {
      const a = await other.request('PUT', '/f.txt', { body: 'newer', headers: { 'X-OC-Mtime': String(T_NEW) } });
      expect(a.status).toBe(201);
      const b = await other.request('PUT', '/f.txt', { body: 'older', headers: { 'X-OC-Mtime': String(T_OLD) } });
      expect(b.status).toBe(204);
      expect(hdr(b, 'x-oc-mtime')).toBe('accepted');
      expect(await readFile(join(other.root, 'f.txt'), 'utf8')).toBe('older');
      expect(Math.floor((await stat(join(other.root, 'f.txt'))).mtimeMs / 1000)).toBe(T_OLD);
    } finally {
      await other.close();
    }
  });
});

describe('placeholders (Windows, Finder)', () => {
  it('a 0-byte file filled under its own lock with an older time is accepted', async () => {
    const create = await t.request('PUT', '/ph.txt', { headers: { 'Content-Length': 0 } });
    expect(create.status).toBe(201);
    const { res: lockRes, token } = await lockPath(t, '/ph.txt', { depth: '0' });
    expect(lockRes.status).toBe(200);
    const res = await putWithMtime('/ph.txt', 'the real content', T_OLD, { If: `(<${token}>)` });
    expect(res.status).toBe(204);
    expect(await readFile(join(t.root, 'ph.txt'), 'utf8')).toBe('the real content');
    expect(await mtimeSeconds('ph.txt')).toBe(T_OLD);
    expect((await t.request('UNLOCK', '/ph.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
  });

  it('a placeholder created by LOCK on an unmapped URL is filled under that lock', async () => {
    const { res: lockRes, token } = await lockPath(t, '/ph-lock.txt', { depth: '0' });
    expect(lockRes.status).toBe(201);
    const res = await putWithMtime('/ph-lock.txt', 'filled', T_OLD, { If: `(<${token}>)` });
    expect([201, 204]).toContain(res.status);
    expect(await readFile(join(t.root, 'ph-lock.txt'), 'utf8')).toBe('filled');
  });

  it('a 0-byte file without the requester\'s own lock is still refused as stale', async () => {
    expect((await t.request('PUT', '/empty.txt', { headers: { 'Content-Length': 0 } })).status).toBe(201);
    const res = await putWithMtime('/empty.txt', 'older', T_OLD);
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('stale-version');
    expect((await stat(join(t.root, 'empty.txt'))).size).toBe(0);
  });

  it('a non-empty file under the requester\'s own lock is still refused as stale', async () => {
    await freshFile('/locked-full.txt', 'full');
    const { token } = await lockPath(t, '/locked-full.txt', { depth: '0' });
    const res = await putWithMtime('/locked-full.txt', 'older', T_OLD, { If: `(<${token}>)` });
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('stale-version');
    expect(await readFile(join(t.root, 'locked-full.txt'), 'utf8')).toBe('full');
    await t.request('UNLOCK', '/locked-full.txt', { headers: { 'Lock-Token': `<${token}>` } });
  });
});

describe('rclone\'s clean-up DELETE after a stale-version refusal', () => {
  async function refused(path: string): Promise<string> {
    const etag = await freshFile(path);
    const res = await putWithMtime(path, 'older', T_OLD, { 'User-Agent': RCLONE });
    expect(res.status).toBe(409);
    return etag;
  }

  it('an unconditional DELETE from the same client is 409 stale-delete and the file stays', async () => {
    const etag = await refused('/rc1.txt');
    const res = await t.request('DELETE', '/rc1.txt', { headers: { 'User-Agent': RCLONE } });
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('stale-delete');
    expect(hdr(res, 'etag')).toBe(etag);
    expect((text(res.xml(), SABRE, 'message') ?? '').length).toBeGreaterThan(10);
    expect(conflictFields(res).etag).toBe(etag);
    expect(await readFile(join(t.root, 'rc1.txt'), 'utf8')).toBe('newer content of /rc1.txt');
    expect((await t.request('GET', '/rc1.txt')).status).toBe(200);
  });

  it('a DELETE from a different client (User-Agent) is 204', async () => {
    await refused('/rc2.txt');
    const res = await t.request('DELETE', '/rc2.txt', { headers: { 'User-Agent': 'Cyberduck/8.7' } });
    expect(res.status).toBe(204);
    expect((await t.request('GET', '/rc2.txt')).status).toBe(404);
  });

  it('a DELETE from the same client with If-Match of the current ETag is 204', async () => {
    const etag = await refused('/rc3.txt');
    const res = await t.request('DELETE', '/rc3.txt', { headers: { 'User-Agent': RCLONE, 'If-Match': etag } });
    expect(res.status).toBe(204);
    expect((await t.request('GET', '/rc3.txt')).status).toBe(404);
  });

  it('after the window has passed, the same client\'s unconditional DELETE is 204', async () => {
    const other = await startTestServer({ staleDeleteWindowMs: 150 });
    try {
      expect((await other.request('PUT', '/w.txt', { body: 'newer', headers: { 'X-OC-Mtime': String(T_NEW) } })).status).toBe(201);
      const refusedPut = await other.request('PUT', '/w.txt', { body: 'older', headers: { 'X-OC-Mtime': String(T_OLD), 'User-Agent': RCLONE } });
      expect(refusedPut.status).toBe(409);
      const within = await other.request('DELETE', '/w.txt', { headers: { 'User-Agent': RCLONE } });
      expect(within.status).toBe(409);
      other.clock.advance(151);
      const after = await other.request('DELETE', '/w.txt', { headers: { 'User-Agent': RCLONE } });
      expect(after.status).toBe(204);
    } finally {
      await other.close();
    }
  });

  it('a DELETE of another path by the same client is not affected', async () => {
    await refused('/rc4.txt');
    await freshFile('/rc4-other.txt');
    const res = await t.request('DELETE', '/rc4-other.txt', { headers: { 'User-Agent': RCLONE } });
    expect(res.status).toBe(204);
  });

  it('once another client saved since the refusal, the same client\'s unconditional DELETE is still 409: it never saw that save either', async () => {
    await refused('/rc5.txt');
    expect((await putWithMtime('/rc5.txt', 'changed meanwhile', T_NEW + 10)).status).toBe(204);
    const res = await t.request('DELETE', '/rc5.txt', { headers: { 'User-Agent': RCLONE } });
    expect(res.status).toBe(409);
    expect(await readFile(join(t.root, 'rc5.txt'), 'utf8')).toBe('changed meanwhile');
  });

  it('once the same client saved successfully since the refusal, its DELETE is 204', async () => {
    await refused('/rc6.txt');
    expect((await putWithMtime('/rc6.txt', 'its own newer save', T_NEW + 10, { 'User-Agent': RCLONE })).status).toBe(204);
    const res = await t.request('DELETE', '/rc6.txt', { headers: { 'User-Agent': RCLONE } });
    expect(res.status).toBe(204);
  });
});

describe('mtime-only changes keep the ETag', () => {
  it('PROPPATCH getlastmodified changes the mtime, not the ETag', async () => {
    const etag = await freshFile('/pp.txt');
    const res = await t.request('PROPPATCH', '/pp.txt', {
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>Wed, 15 Nov 2023 00:00:00 GMT</D:getlastmodified></D:prop></D:set></D:propertyupdate>',
    });
    expect(res.status).toBe(207);
    expect(res.text).toMatch(/HTTP\/1\.1 200/);
    expect(await mtimeSeconds('pp.txt')).toBe(1700006400);
    expect((await propOf(t, '/pp.txt', DAV, 'getlastmodified')).value).toBe('Wed, 15 Nov 2023 00:00:00 GMT');
    expect((await propOf(t, '/pp.txt', DAV, 'getetag')).value).toBe(etag);
    expect(hdr(await t.request('HEAD', '/pp.txt'), 'etag')).toBe(etag);
  });

  it('PROPPATCH {DAV:}lastmodified (unix seconds) changes the mtime, not the ETag', async () => {
    const etag = await freshFile('/pp2.txt');
    const res = await t.request('PROPPATCH', '/pp2.txt', {
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:lastmodified>1700001000</D:lastmodified></D:prop></D:set></D:propertyupdate>',
    });
    expect(res.status).toBe(207);
    expect(await mtimeSeconds('pp2.txt')).toBe(1700001000);
    expect(hdr(await t.request('HEAD', '/pp2.txt'), 'etag')).toBe(etag);
  });

  it('MOVE with X-OC-Mtime: the destination gets the mtime and keeps the source\'s ETag', async () => {
    const etag = await freshFile('/mv-src.txt', 'moving bytes');
    const res = await t.request('MOVE', '/mv-src.txt', { headers: { Destination: dest(t, '/mv-dst.txt'), 'X-OC-Mtime': String(T_NEW + 100) } });
    expect(res.status).toBe(201);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(await mtimeSeconds('mv-dst.txt')).toBe(T_NEW + 100);
    expect(await readFile(join(t.root, 'mv-dst.txt'), 'utf8')).toBe('moving bytes');
    expect((await propOf(t, '/mv-dst.txt', DAV, 'getetag')).value).toBe(etag);
    expect(hdr(await t.request('HEAD', '/mv-dst.txt'), 'etag')).toBe(etag);
  });

  it('COPY with X-OC-Mtime: the destination gets the mtime, the source keeps its ETag and mtime, and validators agree', async () => {
    const etag = await freshFile('/cp-src.txt', 'copied bytes');
    const res = await t.request('COPY', '/cp-src.txt', { headers: { Destination: dest(t, '/cp-dst.txt'), 'X-OC-Mtime': String(T_NEW + 200) } });
    expect(res.status).toBe(201);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(await mtimeSeconds('cp-dst.txt')).toBe(T_NEW + 200);
    expect(await mtimeSeconds('cp-src.txt')).toBe(T_NEW);
    expect(await readFile(join(t.root, 'cp-dst.txt'), 'utf8')).toBe('copied bytes');
    expect(hdr(await t.request('HEAD', '/cp-src.txt'), 'etag')).toBe(etag);
    const dstEtag = hdr(await t.request('HEAD', '/cp-dst.txt'), 'etag');
    expect(dstEtag).toMatch(/^"[^"]+"$/);
    expect((await propOf(t, '/cp-dst.txt', DAV, 'getetag')).value).toBe(dstEtag);
    expect((await propOf(t, '/cp-dst.txt', DAV, 'getlastmodified')).value).toBe('Tue, 14 Nov 2023 22:16:40 GMT');
    // a further mtime-only change of the copy keeps its ETag too
    const again = await t.request('PROPPATCH', '/cp-dst.txt', {
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:lastmodified>1700000300</D:lastmodified></D:prop></D:set></D:propertyupdate>',
    });
    expect(again.status).toBe(207);
    expect(hdr(await t.request('HEAD', '/cp-dst.txt'), 'etag')).toBe(dstEtag);
  });

  it('COPY onto an existing file with X-OC-Mtime: 204, accepted, mtime set', async () => {
    await freshFile('/cp2-src.txt', 'source');
    await freshFile('/cp2-dst.txt', 'to be replaced');
    const res = await t.request('COPY', '/cp2-src.txt', { headers: { Destination: dest(t, '/cp2-dst.txt'), 'X-OC-Mtime': String(T_NEW + 300) } });
    expect(res.status).toBe(204);
    expect(hdr(res, 'x-oc-mtime')).toBe('accepted');
    expect(await mtimeSeconds('cp2-dst.txt')).toBe(T_NEW + 300);
    expect(await readFile(join(t.root, 'cp2-dst.txt'), 'utf8')).toBe('source');
  });

  it('COPY/MOVE of a collection with X-OC-Mtime: "accepted" only when the collection got that mtime', async () => {
    for (const method of ['COPY', 'MOVE']) {
      const src = `/coll-${method}`;
      expect((await t.request('MKCOL', src)).status).toBe(201);
      expect((await t.request('PUT', `${src}/inner.txt`, { body: 'inner' })).status).toBe(201);
      const res = await t.request(method, `${src}/`, { headers: { Destination: dest(t, `${src}-dst/`), 'X-OC-Mtime': String(T_OLD) } });
      expect(res.status).toBe(201);
      const mtime = await mtimeSeconds(`coll-${method}-dst`);
      const accepted = hdr(res, 'x-oc-mtime') === 'accepted';
      expect({ method, accepted, mtimeApplied: mtime === T_OLD }).toEqual({ method, accepted, mtimeApplied: accepted });
    }
  });

  it('a dead-property PROPPATCH changes neither mtime nor ETag', async () => {
    const etag = await freshFile('/dead.txt');
    const res = await t.request('PROPPATCH', '/dead.txt', {
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:S="SAR:"><D:set><D:prop><S:lastmodified>12345</S:lastmodified></D:prop></D:set></D:propertyupdate>',
    });
    expect(res.status).toBe(207);
    expect(await mtimeSeconds('dead.txt')).toBe(T_NEW);
    expect(hdr(await t.request('HEAD', '/dead.txt'), 'etag')).toBe(etag);
    expect((await propOf(t, '/dead.txt', 'SAR:', 'lastmodified')).value).toBe('12345');
  });
});
