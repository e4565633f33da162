/**
 * git over WebDAV (Debian package `git`, its git-http-push): `git push` to a plain http:// remote
 * served by keepdav, as git does without a smart server: PROPFIND to find the refs, LOCK of the ref
 * it updates and of info/refs, MKCOL of the object directories, PUT of each loose object to a
 * temporary name and MOVE into place, PUT of the ref under its lock, UNLOCK. The repository on the
 * server is a bare one prepared with `git update-server-info`. Two pushes (the second renames,
 * changes and deletes files with awkward names), each followed by a clone over http (git's dumb
 * protocol, plain GETs) whose tree and history must equal what was pushed; git fsck on the server's
 * repository must be clean.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { cleanEnv, fileDigests, itWhenInstalled, programAvailable, removeDir, run, tempDir, type RunResult } from '../support/realClientKit';
import { writeAwkwardTree } from '../support/awkwardTree';

const httpPushAvailable = programAvailable('git') && existsSync('/usr/lib/git-core/git-http-push');
const runsHere = itWhenInstalled('git http-push', httpPushAvailable, 'apt-get install -y git');

describe('git http-push (git over WebDAV)', () => {
  let t: TestServer;
  let work: string;
  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('git');
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  const env = () =>
    cleanEnv({
      HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Éditrice', GIT_AUTHOR_EMAIL: 'e@example.org', GIT_COMMITTER_NAME: 'Éditrice', GIT_COMMITTER_EMAIL: 'e@example.org',
    }, ['GIT_']);
  const git = async (args: string[], cwd: string): Promise<RunResult> => {
    const r = await run('git', ['-c', 'core.quotepath=off', '-c', 'init.defaultBranch=main', ...args], { cwd, env: env(), timeoutMs: 60_000 });
    expect(r.status === 0 ? '' : `git ${args.join(' ')}: exit ${r.status}\n${r.output}`).toBe('');
    return r;
  };
  const treeWithoutGit = (dir: string) => Object.fromEntries(Object.entries(fileDigests(dir)).filter(([p]) => !p.startsWith('.git/')));

  runsHere('push a history twice, clone it back over http each time: same files, same commits, a clean repository', async () => {
    const bare = join(t.root, 'projet d’équipe.git');
    await git(['init', '--bare', '--quiet', bare], work);
    await git(['update-server-info'], bare);
    const remoteUrl = `${t.url}${encodeURIComponent('projet d’équipe.git')}/`;

    const src = join(work, 'src');
    mkdirSync(src);
    await git(['init', '--quiet'], src);
    writeAwkwardTree(src);
    await git(['add', '-A'], src);
    await git(['commit', '--quiet', '-m', 'premier: un arbre aux noms étranges'], src);
    const push = await git(['push', remoteUrl, 'main'], src);
    expect(push.output).toMatch(/\[new branch\]\s+main -> main/);

    const clone1 = join(work, 'clone1');
    await git(['clone', '--quiet', remoteUrl, clone1], work);
    expect(treeWithoutGit(clone1)).toEqual(treeWithoutGit(src));

    // Second commit: rename, change, delete, add.
    renameSync(join(src, "it's here.txt"), join(src, "it's renamed.txt"));
    writeFileSync(join(src, 'été/naïve – 日本語.txt'), 'changé\n');
    rmSync(join(src, 'with space/semi;colon=and,comma.txt'));
    writeFileSync(join(src, 'nouveau & frais.txt'), 'nouveau\n');
    await git(['add', '-A'], src);
    await git(['commit', '--quiet', '-m', 'second: renommer, changer, supprimer'], src);
    await git(['push', remoteUrl, 'main'], src);

    const clone2 = join(work, 'clone2');
    await git(['clone', '--quiet', remoteUrl, clone2], work);
    expect(treeWithoutGit(clone2)).toEqual(treeWithoutGit(src));
    const srcLog = (await git(['log', '--format=%H %s'], src)).stdout;
    expect((await git(['log', '--format=%H %s'], clone2)).stdout).toBe(srcLog);
    expect(readFileSync(join(clone2, 'été/naïve – 日本語.txt'), 'utf8')).toBe('changé\n');

    // The server's repository is whole, and git's locks are gone (UNLOCK after the push).
    await git(['fsck', '--strict'], bare);
    expect(readFileSync(join(bare, 'refs/heads/main'), 'utf8').trim()).toBe(srcLog.split(' ')[0]);
    const locks = await t.request('PROPFIND', `/${encodeURIComponent('projet d’équipe.git')}/refs/heads/main`, {
      headers: { Depth: '0', 'Content-Type': 'application/xml' },
      body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    });
    expect(locks.text).not.toContain('activelock');
  }, 120_000);
});
