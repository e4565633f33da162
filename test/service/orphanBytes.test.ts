/**
 * One rule for kept bytes that no retention row names (src/versions/orphanBytes.ts), at start-up
 * and in the scrub alike: whole bytes are re-indexed as versions of /recovered/<key> (nothing is
 * lost), while what can never be a whole version goes at start-up: a half-kept copy (`.partial`)
 * and an upload's temporary that was inside a deleted tree (a `.keepdav-` name).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { admin, taskWhenDone } from '../support/adminKit';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ adminListen: '127.0.0.1:0' });
});
afterAll(async () => {
  await t.close();
});

async function keptFiles(dir = join(t.stateDir, 'retained'), prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await keptFiles(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(prefix + e.name);
  }
  return out.sort();
}

it('start-up re-indexes unnamed kept bytes as /recovered versions and frees only half-kept leftovers; a scrub then finds nothing', async () => {
  expect((await t.request('PUT', '/f.txt', { body: 'first' })).status).toBe(201);
  expect((await t.request('PUT', '/f.txt', { body: 'second' })).status).toBe(204);
  const named = await keptFiles();
  expect(named).toHaveLength(1);
  await t.stop();

  const retained = join(t.stateDir, 'retained');
  await mkdir(join(retained, '5f000001', '5f000001aaaabbbbccccdddd', 'sub'), { recursive: true });
  await writeFile(join(retained, '5f000001', '5f000001aaaabbbbccccdddd', 'sub', 'lost.txt'), 'a file of a tree the index lost');
  await writeFile(join(retained, '5f000001', '5f000001aaaabbbbccccdddd', '.keepdav-tmp-0123456789abcdef'), 'half an upload');
  await writeFile(join(retained, '5f000001', '5f000001eeeeffff00001111.partial'), 'a copy across disks cut short');
  await t.restart();

  const key = '5f000001/5f000001aaaabbbbccccdddd/sub/lost.txt';
  expect(await keptFiles()).toEqual([...named, key].sort());
  const listed = await t.request('GET', `/recovered/${key}?versions`);
  expect(listed.status).toBe(200);
  const [version] = JSON.parse(listed.text).versions as Array<{ id: string; reason: string; size: number }>;
  expect(version).toMatchObject({ reason: 'recovered', size: 'a file of a tree the index lost'.length });
  expect((await t.request('GET', `/recovered/${key}?version=${version.id}`)).text).toBe('a file of a tree the index lost');
  expect(existsSync(join(retained, '5f000001', '5f000001eeeeffff00001111.partial'))).toBe(false);

  // The scrub applies the same rule: nothing is left for it to re-index, nothing it checks is damaged.
  const done = await taskWhenDone(t.server.adminUrl!, (await admin(t.server.adminUrl!, 'POST', '/tasks', { task: 'scrub' })).json().id);
  expect(done.result).toMatchObject({ orphansReindexed: 0, retainedMissingForgotten: 0, retainedDamaged: 0, retainedChecked: 2 });
});

it('the scrub re-indexes an orphan found while serving, and leaves a half-kept copy for the next start', async () => {
  const retained = join(t.stateDir, 'retained');
  await mkdir(join(retained, '5f000002'), { recursive: true });
  await writeFile(join(retained, '5f000002', '5f0000020000111122223333'), 'orphaned while serving');
  await writeFile(join(retained, '5f000002', '5f0000024444555566667777.partial'), 'maybe a copy in progress');
  const done = await taskWhenDone(t.server.adminUrl!, (await admin(t.server.adminUrl!, 'POST', '/tasks', { task: 'scrub' })).json().id);
  expect(done.result).toMatchObject({ orphansReindexed: 1 });
  expect(done.result.reindexed).toEqual([expect.objectContaining({ path: '/recovered/5f000002/5f0000020000111122223333' })]);
  expect(existsSync(join(retained, '5f000002', '5f0000024444555566667777.partial'))).toBe(true);
  await t.restart();
  expect(existsSync(join(retained, '5f000002', '5f0000024444555566667777.partial'))).toBe(false);
  expect((await t.request('GET', '/recovered/5f000002/5f0000020000111122223333?versions')).status).toBe(200);
});
