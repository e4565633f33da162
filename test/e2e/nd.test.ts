/**
 * nd (Debian package `nd`, a small libxml2-based WebDAV client) against a real keepdav: MKCOL, PUT of
 * a tree with awkward names, PROPFIND listings, LOCK (nd sends `Timeout: 60`, not RFC syntax: granted
 * the default), PUT and PROPPATCH under the lock with nd's tagged If header, UNLOCK, COPY, MOVE, GET
 * back (bytes compared), DELETE. nd reads an XML answer only when it is labelled text/xml, as its own
 * requests are: keepdav answers XML in the media type the request used.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../support/testServer';
import { cleanEnv, itWhenInstalled, programAvailable, run, type RunResult } from '../support/realClientKit';
import { AWKWARD_FILES, encodePath, endAwkwardSession, startAwkwardSession } from '../support/awkwardTree';

const runsHere = itWhenInstalled('nd', programAvailable('nd'), 'apt-get install -y nd');

describe('nd', () => {
  let t: TestServer;
  let work: string;
  let local: string;
  beforeAll(async () => ({ t, work, local } = await startAwkwardSession('nd')));
  afterAll(() => endAwkwardSession({ t, work }));

  const url = (rel: string) => `${t.url.replace(/\/$/, "")}/${encodePath(rel)}`;
  /** nd 0.8.2 frees the USER string it took from getenv() after a LOCK (free(): invalid pointer): run it without USER (owner "unknown"). */
  const ndEnv = () => {
    const env = cleanEnv({ HOME: work });
    delete env.USER;
    return env;
  };
  const nd = (args: string[]): Promise<RunResult> => run('nd', args, { timeoutMs: 30_000, env: ndEnv() });
  const ok = async (args: string[]): Promise<RunResult> => {
    const r = await nd(args);
    expect(r.status === 0 ? '' : `nd ${args.join(' ')}: exit ${r.status}\n${r.output}`).toBe('');
    return r;
  };

  runsHere('a whole session: folders, put a tree, list, lock (Timeout: 60), edit under the lock, unlock, copy, move, get, delete', async () => {
    const dirs = [...new Set(AWKWARD_FILES.flatMap((rel) => rel.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
    await ok(['-k', url('n') + '/']);
    for (const dir of dirs.sort()) await ok(['-k', url(`n/${dir}`) + '/']);
    for (const rel of AWKWARD_FILES) await ok(['-p', join(local, rel), url(`n/${rel}`)]);
    for (const rel of AWKWARD_FILES) expect([rel, readFileSync(join(t.root, 'n', rel))]).toEqual([rel, readFileSync(join(local, rel))]);

    const listing = await ok(['-v', url('n/with space') + '/']);
    expect(listing.stdout).toContain('displayname="a&b+c.txt"');
    expect(listing.stdout).toContain(`displayname="l'apostrophe d'été"`);

    // LOCK with `Timeout: 60`: granted, with the default timeout.
    const lock = await ok(['-l', '-i', '60', url("n/it's here.txt")]);
    const token = /token="([^"]+)"/.exec(lock.stdout)?.[1];
    expect(token).toMatch(/^urn:uuid:/);
    expect(lock.stdout).toContain('timeout="Second-3600"');
    // Someone else's PUT is refused; the holder's PUT and PROPPATCH with the token go through.
    expect((await t.request('PUT', `/n/${encodePath("it's here.txt")}`, { body: 'intruder', headers: { Connection: 'close' } })).status).toBe(423);
    await ok(['-p', join(local, 'plain/bigger.bin'), '-t', token!, url("n/it's here.txt")]);
    await ok(['-e', 'note=relu par nd', '-N', 'urn:example:notes', '-t', token!, url("n/it's here.txt")]);
    expect(readFileSync(join(t.root, "n/it's here.txt"))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));
    const note = await ok(['-v', '-g', 'note', '-N', 'urn:example:notes', url("n/it's here.txt")]);
    expect(note.stdout).toContain('relu par nd');
    await ok(['-u', '-t', token!, url("n/it's here.txt")]);
    expect((await t.request('PUT', `/n/${encodePath("it's here.txt")}`, { body: 'after unlock', headers: { Connection: 'close' } })).status).toBe(204);

    // `-c DEST URL` / `-m DEST URL`: the option takes the destination, the source comes last.
    await ok(['-c', url('n/Ünïcødé/copie – 日本語.txt'), url('n/été/naïve – 日本語.txt')]);
    await ok(['-m', url("n/it's moved & renamed.txt"), url('n/with space/a&b+c.txt')]);
    expect(readFileSync(join(t.root, 'n/Ünïcødé/copie – 日本語.txt'))).toEqual(readFileSync(join(local, 'été/naïve – 日本語.txt')));
    expect(existsSync(join(t.root, 'n/with space/a&b+c.txt'))).toBe(false);

    // GET back: nd writes the body to stdout, here into a file, compared byte for byte.
    const downloaded = join(work, 'downloaded.bin');
    const got = await run('sh', ['-c', 'nd "$0" > "$1"', url("n/it's moved & renamed.txt"), downloaded], { env: ndEnv(), timeoutMs: 30_000 });
    expect(got.status).toBe(0);
    expect(readFileSync(downloaded)).toEqual(readFileSync(join(local, 'with space/a&b+c.txt')));

    await ok(['-d', url('n/with space/semi;colon=and,comma.txt')]);
    await ok(['-d', url("n/with space/l'apostrophe d'été") + '/']);
    expect(existsSync(join(t.root, 'n/with space/semi;colon=and,comma.txt'))).toBe(false);
    expect(existsSync(join(t.root, "n/with space/l'apostrophe d'été"))).toBe(false);
  }, 120_000);
});
