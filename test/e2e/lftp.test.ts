/**
 * lftp (Debian package `lftp`) against a real keepdav over http://: a session of mkdir, mirror -R of
 * a tree with awkward names (Unicode, spaces, apostrophes, punctuation), a listing, a second mirror
 * that must send nothing (lftp reads the HTML index: hrefs are percent-encoded so `it's` is not read
 * as `it&`), mv, put over an existing file, rm (lftp sends DELETE with Depth: 0), rmdir, and a mirror
 * back that must give the same bytes and modification times.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../support/testServer';
import { cleanEnv, fileDigests, fileMtimes, itWhenInstalled, programAvailable, run, type RunResult } from '../support/realClientKit';
import { endAwkwardSession, startAwkwardSession } from '../support/awkwardTree';

const runsHere = itWhenInstalled('lftp', programAvailable('lftp'), 'apt-get install -y lftp');

/** lftp's quoting: single quotes, with a ' inside written '\'' (lftp follows the shell here). */
const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

describe('lftp', () => {
  let t: TestServer;
  let work: string;
  let local: string;
  beforeAll(async () => ({ t, work, local } = await startAwkwardSession('lftp')));
  afterAll(() => endAwkwardSession({ t, work }));

  function lftp(commands: string[]): Promise<RunResult> {
    const script = ['set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 10', 'set xfer:clobber yes', `open ${t.url}`, ...commands].join('; ');
    return run('lftp', ['-c', script], { cwd: work, timeoutMs: 60_000, env: cleanEnv({ HOME: work }) });
  }
  const ok = (r: RunResult) => expect(r.status === 0 ? '' : `lftp exit ${r.status}\n${r.output}`).toBe('');

  runsHere('a whole session: folders, mirror up, list, mirror again (nothing sent), rename, overwrite, delete, mirror down', async () => {
    ok(await lftp(['mkdir projets', `mkdir ${q("projets/l'été 2024")}`, `mirror -R --no-perms local ${q('projets/arbre')}`]));
    expect(fileDigests(join(t.root, 'projets/arbre'))).toEqual(fileDigests(local));
    // lftp keeps modification times on upload.
    expect(fileMtimes(join(t.root, 'projets/arbre'))).toEqual(fileMtimes(local));
    expect(existsSync(join(t.root, "projets/l'été 2024"))).toBe(true);

    const listing = await lftp([`cls -1 ${q('projets/arbre/')}`, `cls -1 ${q('projets/arbre/with space/')}`]);
    ok(listing);
    expect(listing.stdout).toContain("it's here.txt");
    expect(listing.stdout).toContain('a&b+c.txt');
    expect(listing.stdout).toContain("l'apostrophe d'été/");

    // Everything is seen as up to date: no file is sent again (the apostrophe ones included).
    const again = await lftp([`mirror -R --no-perms -v local ${q('projets/arbre')}`]);
    ok(again);
    expect(again.output).not.toMatch(/Transferring file/);

    ok(await lftp([
      `mv ${q("projets/arbre/it's here.txt")} ${q("projets/arbre/it's renamed.txt")}`,
      `mv ${q('projets/arbre/été/naïve – 日本語.txt')} ${q("projets/l'été 2024/naïve – 日本語.txt")}`,
      `put -O ${q('projets/arbre/plain')} ${q('local/with space/a&b+c.txt')}`,
      `rm ${q('projets/arbre/with space/semi;colon=and,comma.txt')}`,
      `rm -r ${q("projets/arbre/with space/l'apostrophe d'été")}`,
    ]));
    const tree = join(t.root, 'projets/arbre');
    expect(existsSync(join(tree, "it's renamed.txt"))).toBe(true);
    expect(existsSync(join(tree, "it's here.txt"))).toBe(false);
    expect(readFileSync(join(t.root, "projets/l'été 2024/naïve – 日本語.txt"))).toEqual(readFileSync(join(local, 'été/naïve – 日本語.txt')));
    expect(readFileSync(join(tree, 'plain/a&b+c.txt'))).toEqual(readFileSync(join(local, 'with space/a&b+c.txt')));
    expect(existsSync(join(tree, 'with space/semi;colon=and,comma.txt'))).toBe(false);
    expect(existsSync(join(tree, "with space/l'apostrophe d'été"))).toBe(false);

    // Overwrite an existing file with other content.
    ok(await lftp([`put -O ${q('projets/arbre/plain')} ${q('local/plain/bigger.bin')} -o empty.bin`]));
    expect(readFileSync(join(tree, 'plain/empty.bin'))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));

    ok(await lftp([`mirror --no-perms ${q('projets/arbre')} down`]));
    expect(fileDigests(join(work, 'down'))).toEqual(fileDigests(tree));
    expect(fileMtimes(join(work, 'down'))).toEqual(fileMtimes(tree));
  }, 120_000);
});
