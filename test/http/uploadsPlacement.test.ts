/**
 * Where an upload's temporary file lives while the body arrives (README "What is stored where"):
 * in `uploads/` of the state directory by default, so the target's folder never sees it; beside
 * the target with --uploads-beside-target. Either way nothing is left once the PUT is answered.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { putInTwoParts } from '../support/davHttpKit';
import { STREAMED_BODY_MIN, uploadTemporaries } from '../support/uploadTemporaries';
import { retryWhile } from '../support/retryWhile';

const temporariesIn = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.keepdav-tmp-'));

describe.each([
  ['by default', {}, 'uploads'],
  ['with --uploads-beside-target', { uploadsBesideTarget: true }, 'beside'],
] as const)('an upload under way %s', (_label, overrides, where) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(overrides);
    await mkdir(join(t.root, 'docs'));
  });
  afterAll(() => t.close());

  it(`has ${where === 'uploads' ? 'its uploads directory made, and its one trial rename gone,' : 'no uploads directory and no temporary'} before the first request`, async () => {
    // The trial file briefly sits in the uploads directory and then in the root; a first upload
    // never shares the moment with it (a test that looked then saw both).
    expect(await uploadTemporaries(t, 'docs')).toEqual([]);
    expect(existsSync(join(t.stateDir, 'uploads'))).toBe(where === 'uploads');
  });

  it(`has its temporary ${where === 'uploads' ? 'in the state directory\'s uploads/' : 'beside its target'}, and none is left after the answer`, async () => {
    const firstHalf = 'first half, '.padEnd(STREAMED_BODY_MIN, '.');
    const upload = putInTwoParts(t.port, '/docs/report.txt', firstHalf, 'second half');
    const during = await retryWhile(() => uploadTemporaries(t, 'docs'), (found) => found.length === 0, 10_000);
    expect(during).toHaveLength(1);
    expect(await temporariesIn(join(t.stateDir, 'uploads'))).toHaveLength(where === 'uploads' ? 1 : 0);
    expect(await temporariesIn(join(t.root, 'docs'))).toHaveLength(where === 'uploads' ? 0 : 1);
    upload.finish();
    expect(await upload.status).toBe(201);
    expect((await t.request('GET', '/docs/report.txt')).text).toBe(firstHalf + 'second half');
    expect(await uploadTemporaries(t, 'docs')).toEqual([]);
    expect(await readdir(join(t.root, 'docs'))).toEqual(['report.txt']);
  });
});
