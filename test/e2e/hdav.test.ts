/**
 * hdav (Debian package `hdav`, Haskell DAV) against a real keepdav: makecollection, put of a tree
 * with awkward names, getprops without a Depth (a PROPFIND that must be 207 on a file), getprops
 * --depth 1 as the listing, copy (hdav copies data and properties: GET, PUT, then a PROPPATCH that
 * is empty when there are no dead properties), move (rename and move), put over an existing file,
 * delete. hdav has no download command: its copy is the read path here (it GETs the source), and the
 * bytes and dead properties are compared on the server. The test's own requests close their
 * connection: between them hdav runs for seconds, past the server's keep-alive timeout, and a pooled
 * socket the server has just closed would be reused (ECONNRESET).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../support/testServer';
import { cleanEnv, itWhenInstalled, programAvailable, run, type RunResult } from '../support/realClientKit';
import { AWKWARD_FILES, encodePath, endAwkwardSession, startAwkwardSession } from '../support/awkwardTree';

const runsHere = itWhenInstalled('hdav', programAvailable('hdav'), 'apt-get install -y hdav');

describe('hdav', () => {
  let t: TestServer;
  let work: string;
  let local: string;
  beforeAll(async () => ({ t, work, local } = await startAwkwardSession('hdav')));
  afterAll(() => endAwkwardSession({ t, work }));

  const url = (rel: string) => `${t.url.replace(/\/$/, "")}/${encodePath(rel)}`;
  const hdav = (args: string[]): Promise<RunResult> => run('hdav', args, { timeoutMs: 30_000, env: cleanEnv({ HOME: work }) });
  const ok = (r: RunResult) => expect(r.status === 0 ? '' : `hdav ${r.status}\n${r.output}`).toBe('');

  runsHere('a whole session: folders, put a tree, getprops, copy, move, overwrite, delete', async () => {
    const dirs = [...new Set(AWKWARD_FILES.flatMap((rel) => rel.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
    ok(await hdav(['makecollection', url('h') + '/']));
    for (const dir of dirs.sort()) ok(await hdav(['makecollection', url(`h/${dir}`) + '/']));
    for (const rel of AWKWARD_FILES) ok(await hdav(['put', join(local, rel), url(`h/${rel}`)]));
    for (const rel of AWKWARD_FILES) expect([rel, readFileSync(join(t.root, 'h', rel))]).toEqual([rel, readFileSync(join(local, rel))]);

    // getprops sends PROPFIND with no Depth: on a file that is 207 with that one file.
    const props = await hdav(['getprops', url("h/it's here.txt")]);
    ok(props);
    expect(props.stdout).toContain('<D:getcontentlength>' + readFileSync(join(local, "it's here.txt")).length + '</D:getcontentlength>');
    const listing = await hdav(['getprops', url('h/with space') + '/', '--depth', '1']);
    ok(listing);
    expect(listing.stdout).toContain('a&amp;b+c.txt');
    expect(listing.stdout).toContain('l&#39;apostrophe d&#39;été');

    // copy: GET + PUT + PROPPATCH of the source's dead properties (one set here, none on the second).
    const note = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:N="urn:example:notes"><D:set><D:prop><N:note>relu</N:note></D:prop></D:set></D:propertyupdate>';
    expect((await t.request('PROPPATCH', `/h/${encodePath('été/naïve – 日本語.txt')}`, { headers: { 'Content-Type': 'application/xml', Connection: 'close' }, body: note })).status).toBe(207);
    ok(await hdav(['copy', url('h/été/naïve – 日本語.txt'), url('h/Ünïcødé/copie – 日本語.txt')]));
    ok(await hdav(['copy', url('h/plain/bigger.bin'), url('h/plain/bigger copy.bin')]));
    expect(readFileSync(join(t.root, 'h/Ünïcødé/copie – 日本語.txt'))).toEqual(readFileSync(join(local, 'été/naïve – 日本語.txt')));
    expect(readFileSync(join(t.root, 'h/plain/bigger copy.bin'))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));
    const copied = await t.request('PROPFIND', `/h/${encodePath('Ünïcødé/copie – 日本語.txt')}`, {
      headers: { Depth: '0', 'Content-Type': 'application/xml', Connection: 'close' },
      body: '<D:propfind xmlns:D="DAV:"><D:prop><N:note xmlns:N="urn:example:notes"/></D:prop></D:propfind>',
    });
    expect(copied.text).toMatch(/note[^>]*>relu</);

    // move: a rename, and a move into another folder.
    ok(await hdav(['move', url("h/it's here.txt"), url("h/it's renamed.txt")]));
    ok(await hdav(['move', url('h/with space/a&b+c.txt'), url('h/été/a&b+c moved.txt')]));
    expect(existsSync(join(t.root, "h/it's here.txt"))).toBe(false);
    expect(readFileSync(join(t.root, "h/it's renamed.txt"))).toEqual(readFileSync(join(local, "it's here.txt")));
    expect(readFileSync(join(t.root, 'h/été/a&b+c moved.txt'))).toEqual(readFileSync(join(local, 'with space/a&b+c.txt')));

    // put over an existing file.
    ok(await hdav(['put', join(local, 'plain/bigger.bin'), url('h/plain/empty.bin')]));
    expect(readFileSync(join(t.root, 'h/plain/empty.bin'))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));

    ok(await hdav(['delete', url('h/with space/semi;colon=and,comma.txt')]));
    ok(await hdav(['delete', url("h/with space/l'apostrophe d'été") + '/']));
    expect(existsSync(join(t.root, 'h/with space/semi;colon=and,comma.txt'))).toBe(false);
    expect(existsSync(join(t.root, "h/with space/l'apostrophe d'été"))).toBe(false);
  }, 120_000);
});
