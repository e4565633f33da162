/**
 * python3-webdavclient (Debian package `python3-webdavclient`, the `webdav3` module of webdavclient3)
 * against a real keepdav: the session in test/support/webdavclient3Session.py makes folders, uploads a
 * tree with awkward names, lists, reads info and properties, renames, moves, copies, overwrites,
 * deletes a file and a folder, and downloads the tree; here the bytes on both sides are compared.
 * The client keeps no modification times (it sends none), so times are compared with what the
 * server reports (getlastmodified) rather than with the local files.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { cleanEnv, fileDigests, itWhenInstalled, programRuns, removeDir, run, tempDir } from '../support/realClientKit';
import { writeAwkwardTree } from '../support/awkwardTree';

const PYTHON = '/usr/bin/python3';
const runsHere = itWhenInstalled('python3-webdavclient', programRuns(PYTHON, ['-c', 'import webdav3.client']), 'apt-get install -y python3-webdavclient');
const SESSION = join(__dirname, '..', 'support', 'webdavclient3Session.py');

describe('python3-webdavclient (webdav3)', () => {
  let t: TestServer;
  let work: string;
  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('webdav3');
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  runsHere('a whole session: folders, upload a tree, list, info, rename, move, copy, overwrite, properties, delete, download', async () => {
    const local = join(work, 'local');
    const down = join(work, 'down');
    mkdirSync(local);
    mkdirSync(down);
    writeAwkwardTree(local);
    const r = await run(PYTHON, [SESSION, t.url, local, down], { timeoutMs: 90_000, env: cleanEnv({ HOME: work, PYTHONIOENCODING: 'utf-8' }) });
    expect(r.status === 0 ? '' : r.output).toBe('');
    const seen = JSON.parse(r.stdout) as Record<string, unknown>;

    expect(seen.top).toEqual(["it's here.txt", 'plain/', 'with space/', 'Ünïcødé/', 'été/'].sort());
    expect(seen.withSpace).toEqual(['a&b+c.txt', "l'apostrophe d'été/", 'semi;colon=and,comma.txt']);
    const info = seen.info as Record<string, string>;
    expect(info.size).toBe(String(readFileSync(join(local, "it's here.txt")).length));
    expect(Date.parse(info.modified)).toBeGreaterThan(Date.now() - 600_000);
    expect(seen.isDir).toBe(true);
    expect(seen.check).toEqual([true, false]);
    expect(seen.note).toBe('relu');
    expect(seen.afterDelete).toEqual([]);

    const tree = join(t.root, 'py', 'tree');
    // What was downloaded is byte for byte what the server holds...
    expect(fileDigests(down)).toEqual(fileDigests(tree));
    // ...and what the server holds is the uploaded tree after the session's changes.
    expect(readFileSync(join(tree, "it's renamed.txt"))).toEqual(readFileSync(join(local, "it's here.txt")));
    expect(readFileSync(join(t.root, "py/dossier d'été/a&b+c.txt"))).toEqual(readFileSync(join(local, 'with space/a&b+c.txt')));
    expect(readFileSync(join(tree, 'Ünïcødé/copie – 日本語.txt'))).toEqual(readFileSync(join(local, 'été/naïve – 日本語.txt')));
    expect(readFileSync(join(tree, 'plain/empty.bin'))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));
    expect(Object.keys(fileDigests(tree)).sort()).toEqual(
      ["it's renamed.txt", 'plain/bigger.bin', 'plain/empty.bin', 'Ünïcødé/copie – 日本語.txt', 'Ünïcødé/ßtraße €.dat', 'été/données (v2).bin', 'été/naïve – 日本語.txt'].sort(),
    );
  }, 120_000);
});
