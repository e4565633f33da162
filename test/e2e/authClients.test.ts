/**
 * Real clients signing in over plain HTTP (Basic) to a keepdav with a users file made by the real
 * `htpasswd -B` and access rules: rclone copies into the user's home and is refused elsewhere and
 * with a wrong password; cadaver (credentials from ~/.netrc) uploads, locks and unlocks, and the
 * lock it took is refused to another user.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAuthServer, htpasswdLine, basic, errorCode, type AuthServer } from '../support/authKit';
import { CadaverSession } from '../support/cadaverSession';
import { cleanEnv, fileDigests, itWhenInstalled, programAvailable, programRuns, pseudoRandomBytes, removeDir, run, tempDir } from '../support/realClientKit';

const rcloneAvailable = programAvailable('rclone') && programRuns('rclone', ['version']);
const cadaverAvailable = programAvailable('cadaver');
const withRclone = itWhenInstalled('rclone', rcloneAvailable, 'apt-get install -y rclone');
const withCadaver = itWhenInstalled('cadaver', cadaverAvailable, 'apt-get install -y cadaver');

const ACCESS = [
  { path: '/', who: '*', allow: 'read' },
  { path: '/home/{user}/', who: '*', allow: 'write' },
  { path: '/home/', who: '*', allow: 'none' },
] as const;

describe('real clients with credentials', () => {
  let t: AuthServer;
  let work: string;

  beforeAll(async () => {
    t = await startAuthServer([htpasswdLine('alice', 'alice secret'), htpasswdLine('bob', 'bob-secret')], { access: ACCESS });
    mkdirSync(join(t.root, 'home', 'alice'), { recursive: true });
    mkdirSync(join(t.root, 'home', 'bob'), { recursive: true });
    work = tempDir('auth-clients');
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  const rclone = (args: string[]) => {
    const home = join(work, 'rclone-home');
    mkdirSync(home, { recursive: true });
    return run('rclone', ['--config', '/dev/null', '--low-level-retries', '1', '--retries', '1', ...args], {
      timeoutMs: 120_000,
      env: cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config') }),
    });
  };
  const remote = async (user: string, password: string, path: string) => {
    const obscured = (await rclone(['obscure', password])).stdout.trim();
    return `:webdav,url='${t.url}',vendor=other,user=${user},pass=${obscured}:${path}`;
  };

  withRclone('rclone copies into the user\'s home with the right password and is refused elsewhere', async () => {
    const local = join(work, 'local');
    mkdirSync(join(local, 'sub'), { recursive: true });
    writeFileSync(join(local, 'a.txt'), 'alpha\n');
    writeFileSync(join(local, 'sub', 'b.bin'), pseudoRandomBytes(100_000, 3));
    const copy = await rclone(['copy', local, await remote('alice', 'alice secret', 'home/alice/photos')]);
    expect({ status: copy.status, out: copy.status === 0 ? '' : copy.output.slice(-3000) }).toEqual({ status: 0, out: '' });
    expect(fileDigests(join(t.root, 'home', 'alice', 'photos'))).toEqual(fileDigests(local));

    const lsHome = await rclone(['lsf', await remote('alice', 'alice secret', 'home')]);
    expect(lsHome.status).not.toBe(0); // /home/ itself is "none" for everyone

    const intoBob = await rclone(['copy', local, await remote('alice', 'alice secret', 'home/bob/stolen')]);
    expect(intoBob.status).not.toBe(0);
    expect(intoBob.output).toMatch(/403|no-permission|no write access/i);
    const wrong = await rclone(['lsf', await remote('alice', 'wrong', 'home/alice')]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.output).toMatch(/401|Unauthorized|wrong user name or password/i);
    expect(readFileSync(join(t.root, 'home', 'alice', 'photos', 'a.txt'), 'utf8')).toBe('alpha\n');
  }, 240_000);

  withCadaver('cadaver signs in from ~/.netrc, uploads, and keeps its lock from another user', async () => {
    const home = join(work, 'cadaver-home');
    const cwd = join(work, 'cadaver-cwd');
    mkdirSync(home, { recursive: true });
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(home, '.netrc'), 'machine 127.0.0.1\nlogin bob\npassword bob-secret\n', { mode: 0o600 });
    writeFileSync(join(cwd, 'notes.txt'), 'bob\'s notes\n');
    const { session } = await CadaverSession.open(`${t.url}home/bob/`, { home, cwd });
    try {
      expect(await session.command('put notes.txt')).toMatch(/succeeded/);
      expect(readFileSync(join(t.root, 'home', 'bob', 'notes.txt'), 'utf8')).toBe('bob\'s notes\n');
      expect(await session.command('lock notes.txt')).toMatch(/succeeded/);
      const shown = await session.command('showlocks');
      const token = /(urn:uuid:[0-9a-f-]+)/.exec(shown)?.[1];
      expect(token).toBeDefined();
      // alice cannot write there at all, nor unlock bob's lock with its token.
      const unlock = await t.request('UNLOCK', '/home/bob/notes.txt', { headers: { ...basic('alice', 'alice secret'), 'Lock-Token': `<${token}>` } });
      expect(unlock.status).toBe(403);
      expect(['no-permission', 'lock-not-owned']).toContain(errorCode(unlock));
      expect(await session.command('put notes.txt')).toMatch(/succeeded/); // under its own lock
      expect(await session.command('unlock notes.txt')).toMatch(/succeeded/);
      expect(await session.command('cd /home/alice/')).toMatch(/403|Forbidden|failed|Could not access/i);
    } finally {
      await session.quit();
    }
  }, 120_000);
});
