/**
 * No client's clean-up destroys another's save (README, "Versions and conflicts"): after any refused
 * upload (423 locked, 412, 409 stale-version...), the same client's unconditional DELETE of that file
 * is refused, also when retried until a lock is released; and a file that client deleted moments ago
 * cannot be re-created with an older stated time (rclone's retried upload after its clean-up).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { codeOf, hdr } from '../support/conflictKit';
import { lockPath } from '../support/davHttpKit';

const RCLONE = { 'User-Agent': 'rclone/v1.60.1' };
const HOLDER = { 'User-Agent': 'curl/7.88.1' };
const T_OLD = 1600000000;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const onDisk = (name: string) => readFile(join(t.root, name), 'utf8');

describe('the two-editor scenario: a lock holder saves while rclone uploads an older copy', () => {
  it('the holder\'s save survives rclone\'s 423, its clean-up DELETE retried past the unlock, and its retried PUT', async () => {
    expect((await t.request('PUT', '/shared.txt', { body: 'original', headers: HOLDER })).status).toBe(201);
    const { token } = await lockPath(t, '/shared.txt', { depth: '0' });
    expect((await t.request('PUT', '/shared.txt', { body: 'holder edit', headers: { ...HOLDER, If: `(<${token}>)` } })).status).toBe(204);

    const put = await t.request('PUT', '/shared.txt', { body: 'rclone old copy', headers: { ...RCLONE, 'X-OC-Mtime': String(T_OLD) } });
    expect(put.status).toBe(423);
    // rclone retries its clean-up DELETE while it is refused with 423...
    expect((await t.request('DELETE', '/shared.txt', { headers: RCLONE })).status).toBe(423);
    expect((await t.request('UNLOCK', '/shared.txt', { headers: { ...HOLDER, 'Lock-Token': `<${token}>` } })).status).toBe(204);
    // ...and once the lock is gone, the DELETE is refused for what it is: the clean-up of a refused upload.
    const del = await t.request('DELETE', '/shared.txt', { headers: RCLONE });
    expect(del.status).toBe(409);
    expect(codeOf(del)).toBe('refused-upload-delete');
    expect(del.text).toContain('lock-token-submitted');
    expect(hdr(del, 'etag')).toBeDefined();
    // rclone's retried upload now meets the holder's newer file: stale.
    const retry = await t.request('PUT', '/shared.txt', { body: 'rclone old copy', headers: { ...RCLONE, 'X-OC-Mtime': String(T_OLD) } });
    expect(retry.status).toBe(409);
    expect(codeOf(retry)).toBe('stale-version');
    expect(await onDisk('shared.txt')).toBe('holder edit');
  });
});

describe('every refusal of an upload protects the file from that client\'s clean-up', () => {
  it('after a 412 (If-Match of an old ETag) the unconditional DELETE is 409 refused-upload-delete; with If-Match it is 204', async () => {
    const created = await t.request('PUT', '/f412.txt', { body: 'v1', headers: HOLDER });
    const oldEtag = hdr(created, 'etag')!;
    const current = hdr(await t.request('PUT', '/f412.txt', { body: 'v2', headers: HOLDER }), 'etag')!;
    expect((await t.request('PUT', '/f412.txt', { body: 'v3', headers: { ...RCLONE, 'If-Match': oldEtag } })).status).toBe(412);
    const del = await t.request('DELETE', '/f412.txt', { headers: RCLONE });
    expect(del.status).toBe(409);
    expect(codeOf(del)).toBe('refused-upload-delete');
    expect(await onDisk('f412.txt')).toBe('v2');
    // Another client is not concerned, and the same client may delete what it names.
    expect((await t.request('DELETE', '/f412.txt', { headers: { ...RCLONE, 'If-Match': current } })).status).toBe(204);
  });

  it('a DELETE with a Depth on a collection is not concerned (a refused PUT onto a collection protects nothing)', async () => {
    expect((await t.request('MKCOL', '/coll/')).status).toBe(201);
    expect((await t.request('PUT', '/coll', { body: 'x', headers: RCLONE })).status).toBe(405);
    expect((await t.request('DELETE', '/coll/', { headers: RCLONE })).status).toBe(204);
  });
});

describe('re-creating a file this client deleted moments ago', () => {
  async function deletedByRclone(name: string, mtime: number): Promise<void> {
    expect((await t.request('PUT', `/${name}`, { body: 'newer', headers: { ...HOLDER, 'X-OC-Mtime': String(mtime) } })).status).toBe(201);
    expect((await t.request('DELETE', `/${name}`, { headers: RCLONE })).status).toBe(204);
  }

  it('stating an older time than the deleted content is 409 stale-version and nothing is created', async () => {
    await deletedByRclone('re1.txt', T_OLD + 1000);
    const res = await t.request('PUT', '/re1.txt', { body: 'older', headers: { ...RCLONE, 'X-OC-Mtime': String(T_OLD) } });
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('stale-version');
    expect(res.text).toContain(String(T_OLD + 1000));
    await expect(stat(join(t.root, 're1.txt'))).rejects.toThrow();
    // The deleted content is among the versions.
    const versions = JSON.parse((await t.request('GET', '/re1.txt?versions')).text);
    expect(JSON.stringify(versions)).toContain('delete');
  });

  it('stating the same or a newer time, no time, or coming from another client creates it (201)', async () => {
    await deletedByRclone('re2.txt', T_OLD + 1000);
    expect((await t.request('PUT', '/re2.txt', { body: 'same', headers: { ...RCLONE, 'X-OC-Mtime': String(T_OLD + 1000) } })).status).toBe(201);
    await deletedByRclone('re3.txt', T_OLD + 1000);
    expect((await t.request('PUT', '/re3.txt', { body: 'no time', headers: RCLONE })).status).toBe(201);
    await deletedByRclone('re4.txt', T_OLD + 1000);
    expect((await t.request('PUT', '/re4.txt', { body: 'other', headers: { ...HOLDER, 'X-OC-Mtime': String(T_OLD) } })).status).toBe(201);
    expect(await onDisk('re4.txt')).toBe('other');
  });
});
