/**
 * cadaver (Debian package `cadaver`, neon-based command-line client) against a real keepdav, driven
 * one command at a time through its standard input: mkcol, put, get, copy, move, lock, a put under
 * the lock, unlock, propset, propget, delete, rmcol, and how it reports keepdav's refusals. The
 * disk under the served root and keepdav's answers to plain requests are checked after each step.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { CadaverSession } from '../support/cadaverSession';
import { activeLocks, activeLockToken, foundProp, lockPath, propfind, XML_HEADERS } from '../support/davHttpKit';
import { DAV } from '../support/xmlQuery';
import { itWhenInstalled, programAvailable, pseudoRandomBytes, removeDir, tempDir } from '../support/realClientKit';

const cadaverAvailable = programAvailable('cadaver'); // (cadaver --version exits 255)
const runsHere = itWhenInstalled('cadaver', cadaverAvailable, 'apt-get install -y cadaver');

/** cadaver's default namespace for `propset`/`propget` names without one. */
const CADAVER_NS = 'http://webdav.org/cadaver/custom-properties/';

describe('cadaver', () => {
  let t: TestServer;
  let work: string;
  let session: CadaverSession | undefined;
  const report = pseudoRandomBytes(200_000, 7); // binary, every byte value
  const unicodeText = 'Grüße, 日本語, naïve – text\n';

  const disk = (rel: string) => join(t.root, rel);
  const cad = async (line: string) => {
    if (!session) throw new Error('no cadaver session');
    return session.command(line);
  };

  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('cadaver');
    mkdirSync(join(work, 'home'));
    mkdirSync(join(work, 'cwd'));
    writeFileSync(join(work, 'cwd', 'report.bin'), report);
    writeFileSync(join(work, 'cwd', 'local notes.txt'), unicodeText);
    writeFileSync(join(work, 'cwd', 'v2.bin'), 'second version, written under cadaver\'s lock\n');
    writeFileSync(join(work, 'cwd', 'intruder.txt'), 'must never arrive\n');
    if (cadaverAvailable) {
      const opened = await CadaverSession.open(t.url, { home: join(work, 'home'), cwd: join(work, 'cwd') });
      session = opened.session;
    }
  });
  afterAll(async () => {
    if (session) await session.quit();
    await t?.close();
    removeDir(work);
  });

  runsHere('mkcol creates the collection; a second mkcol fails with 405', async () => {
    expect(await cad('mkcol docs')).toMatch(/Creating `docs': succeeded\./);
    expect(statSync(disk('docs')).isDirectory()).toBe(true);
    const again = await cad('mkcol docs');
    expect(again).toMatch(/failed/);
    expect(again).toMatch(/405/);
    expect(await cad('mkcol "ünï côdé dir"')).toMatch(/succeeded/);
    expect(statSync(disk('ünï côdé dir')).isDirectory()).toBe(true);
  });

  runsHere('put uploads byte-identical files, also to names with spaces and Unicode', async () => {
    expect(await cad('put report.bin docs/report.bin')).toMatch(/succeeded/);
    expect(readFileSync(disk('docs/report.bin')).equals(report)).toBe(true);
    expect(await cad('put "local notes.txt" "ünï côdé dir/notes – 日本語.txt"')).toMatch(/succeeded/);
    expect(readFileSync(disk('ünï côdé dir/notes – 日本語.txt'), 'utf8')).toBe(unicodeText);
    // Into a missing collection: 409, nothing created.
    const orphan = await cad('put report.bin missing/report.bin');
    expect(orphan).toMatch(/failed/);
    expect(orphan).toMatch(/409/);
    expect(existsSync(disk('missing'))).toBe(false);
  });

  runsHere('get downloads the same bytes; a missing file fails with 404', async () => {
    expect(await cad('get docs/report.bin fetched.bin')).toMatch(/succeeded/);
    expect(readFileSync(join(work, 'cwd', 'fetched.bin')).equals(report)).toBe(true);
    expect(await cad('get "ünï côdé dir/notes – 日本語.txt" fetched.txt')).toMatch(/succeeded/);
    expect(readFileSync(join(work, 'cwd', 'fetched.txt'), 'utf8')).toBe(unicodeText);
    const missing = await cad('get docs/nope.bin nope.bin');
    expect(missing).toMatch(/failed/);
    expect(missing).toMatch(/404/);
    // (cadaver itself leaves an empty local file behind; nothing to check on the server side but the 404.)
  });

  runsHere('copy duplicates the file on disk', async () => {
    expect(await cad('copy docs/report.bin docs/copy.bin')).toMatch(/succeeded/);
    expect(readFileSync(disk('docs/copy.bin')).equals(report)).toBe(true);
    expect(readFileSync(disk('docs/report.bin')).equals(report)).toBe(true);
  });

  runsHere('move renames the file on disk', async () => {
    expect(await cad('move docs/copy.bin docs/moved.bin')).toMatch(/succeeded/);
    expect(existsSync(disk('docs/copy.bin'))).toBe(false);
    expect(readFileSync(disk('docs/moved.bin')).equals(report)).toBe(true);
  });

  runsHere('lock: keepdav shows the lock, refuses another client (423), and accepts cadaver\'s own put under it', async () => {
    expect(await cad('lock docs/moved.bin')).toMatch(/succeeded/);
    const shown = await cad('showlocks');
    const token = /Lock token <([^>]+)>/.exec(shown)?.[1];
    expect(token).toMatch(/^urn:uuid:/);

    const pf = await propfind(t, '/docs/moved.bin', [[DAV, 'lockdiscovery']]);
    expect(pf.status).toBe(207);
    expect(activeLocks(pf.xml()).map(activeLockToken)).toEqual([token]);

    // Another client, without the token: 423, the file is unchanged.
    const intruder = await t.request('PUT', '/docs/moved.bin', { body: 'intruder' });
    expect(intruder.status).toBe(423);
    expect(readFileSync(disk('docs/moved.bin')).equals(report)).toBe(true);

    // cadaver submits its token with the PUT (If header): the upload goes through.
    expect(await cad('put v2.bin docs/moved.bin')).toMatch(/succeeded/);
    expect(readFileSync(disk('docs/moved.bin'), 'utf8')).toBe("second version, written under cadaver's lock\n");
    expect(await cad('discover docs/moved.bin')).toContain(token as string);
  });

  runsHere('propset stores a dead property that propget shows and PROPFIND returns', async () => {
    // The file is still locked by cadaver: its PROPPATCH carries the token.
    expect(await cad('propset docs/moved.bin colour "deep blue"')).toMatch(/succeeded/);
    const got = await cad('propget docs/moved.bin colour');
    expect(got).toMatch(/Value of colour is: deep blue/);

    const pf = await propfind(t, '/docs/moved.bin', [[CADAVER_NS, 'colour']]);
    const prop = foundProp(pf.xml(), CADAVER_NS, 'colour');
    expect(prop).toBeDefined();
    expect(pf.text).toContain('deep blue');

    const all = await cad('propget docs/moved.bin');
    expect(all).toMatch(/custom-properties\/ colour = deep blue/);
    expect(all).toMatch(/getcontentlength = 45/);
  });

  runsHere('unlock releases the lock: keepdav shows none and another client may write again', async () => {
    expect(await cad('unlock docs/moved.bin')).toMatch(/succeeded/);
    const pf = await propfind(t, '/docs/moved.bin', [[DAV, 'lockdiscovery']]);
    expect(activeLocks(pf.xml())).toEqual([]);
    expect(await cad('showlocks')).not.toMatch(/Lock token/);
    const other = await t.request('PUT', '/docs/moved.bin', { body: 'other client, after the unlock\n' });
    expect(other.status).toBe(204);
    expect(readFileSync(disk('docs/moved.bin'), 'utf8')).toBe('other client, after the unlock\n');
    // The dead property followed the file through the writes.
    expect((await cad('propget docs/moved.bin colour'))).toMatch(/Value of colour is: deep blue/);
  });

  runsHere('a put onto a file locked by another client fails with 423 and leaves it intact', async () => {
    const { res, token } = await lockPath(t, '/docs/report.bin', { owner: '<D:href>someone else</D:href>' });
    expect(res.status).toBe(200);
    const out = await cad('put intruder.txt docs/report.bin');
    expect(out).toMatch(/failed/);
    expect(out).toMatch(/423/);
    expect(readFileSync(disk('docs/report.bin')).equals(report)).toBe(true);
    // So does a delete.
    const del = await cad('delete docs/report.bin');
    expect(del).toMatch(/failed/);
    expect(existsSync(disk('docs/report.bin'))).toBe(true);
    const unlock = await t.request('UNLOCK', '/docs/report.bin', { headers: { 'Lock-Token': `<${token}>` } });
    expect(unlock.status).toBe(204);
    // Right after its refused upload, the same client's unconditional delete is refused too (issue 13:
    // a clean-up must not destroy the lock holder's save); another client may delete it.
    const after = await cad('delete docs/report.bin');
    expect(after).toMatch(/failed/);
    expect(after).toMatch(/409/);
    expect(existsSync(disk('docs/report.bin'))).toBe(true);
  });

  runsHere('delete removes files and rmcol removes collections from disk', async () => {
    expect((await t.request('DELETE', '/docs/report.bin')).status).toBe(204);
    expect(existsSync(disk('docs/report.bin'))).toBe(false);
    expect(await cad('delete "ünï côdé dir/notes – 日本語.txt"')).toMatch(/succeeded/);
    expect(existsSync(disk('ünï côdé dir/notes – 日本語.txt'))).toBe(false);
    expect(await cad('rmcol "ünï côdé dir"')).toMatch(/succeeded/);
    expect(existsSync(disk('ünï côdé dir'))).toBe(false);
    const ls = await cad('ls docs');
    expect(ls).toMatch(/moved\.bin/);
    expect(ls).not.toMatch(/report\.bin|copy\.bin/);
    // The server still answers plainly and nothing else is left in the root.
    expect((await t.request('PROPFIND', '/docs/', { headers: { ...XML_HEADERS, Depth: '1' } })).status).toBe(207);
    expect(existsSync(disk('docs/moved.bin'))).toBe(true);
  });

  runsHere('quit ends the session cleanly', async () => {
    const all = await session!.quit();
    session = undefined;
    expect(all).toMatch(/Connection to `127\.0\.0\.1' closed\./);
  });
});
