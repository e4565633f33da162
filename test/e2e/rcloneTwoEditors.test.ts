/**
 * rclone (Debian package `rclone`) against a lock holder, and rclone's checksums.
 *
 * Two editors: someone holds a LOCK (taken over raw HTTP, as curl would) and saves an edit under it;
 * rclone uploads an older copy of the same file. rclone answers a 423 by retrying, and after every
 * failed upload it sends an unconditional DELETE of the path, retried while it meets the lock. The
 * holder's save must survive, whether the lock is held through the whole run or released while
 * rclone retries, and rclone must report the failure (exit non-zero), not exit 0.
 *
 * Vendors: `other` (no times stated), `owncloud` and `nextcloud` (X-OC-Mtime, OC-Checksum). The
 * `rclone` vendor the issue names does not exist in Debian 12's rclone 1.60 (`rclone help backend
 * webdav` lists nextcloud, owncloud, sharepoint, sharepoint-ntlm, other): it is not tested here.
 *
 * Checksums: with owncloud/nextcloud rclone reads oc:checksums, so `rclone md5sum`/`sha1sum` show
 * the hashes keepdav computed while the uploads streamed, and `rclone check` compares by hash (it
 * finds a local change that kept the file's size and mtime).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { lockPath } from '../support/davHttpKit';
import { cleanEnv, itWhenInstalled, programAvailable, programRuns, pseudoRandomBytes, removeDir, run, runWatching, tempDir, type RunResult } from '../support/realClientKit';

const rcloneAvailable = programAvailable('rclone') && programRuns('rclone', ['version']);
const runsHere = itWhenInstalled('rclone', rcloneAvailable, 'apt-get install -y rclone');

type Vendor = 'other' | 'owncloud' | 'nextcloud';
const HOLDER = { 'User-Agent': 'curl/7.88.1' };
const T_OLD = 1_600_000_000;

function remote(t: TestServer, vendor: Vendor, path = ''): string {
  return `:webdav,url='${t.url}',vendor=${vendor}:${path}`;
}

function rcloneEnv(home: string): NodeJS.ProcessEnv {
  return cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config') });
}

function rclone(args: string[], home: string, timeoutMs = 120_000): Promise<RunResult> {
  return run('rclone', ['--config', '/dev/null', ...args], { timeoutMs, env: rcloneEnv(home) });
}

/** rclone, with each line of its output passed to `onLine` as it comes. */
function rcloneWatching(args: string[], home: string, onLine: (line: string) => void): Promise<RunResult> {
  return runWatching('rclone', ['--config', '/dev/null', ...args], onLine, { env: rcloneEnv(home) });
}

function writeLocal(root: string, rel: string, content: Buffer | string, mtimeSec: number): string {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  utimesSync(abs, mtimeSec, mtimeSec);
  return abs;
}

function describeRun(r: RunResult): string {
  return `exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}\n${r.output.slice(-4000)}`;
}

describe('rclone against a lock holder (two editors)', () => {
  let t: TestServer;
  let work: string;
  let home: string;
  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('rclone-editors');
    home = join(work, 'home');
    mkdirSync(home);
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  /** The holder creates the file, locks it, and saves an edit under the lock; returns the token. */
  async function holderSaves(path: string, edit: string): Promise<string> {
    expect((await t.request('PUT', encodeURI(path), { body: 'original\n', headers: HOLDER })).status).toBe(201);
    const { token } = await lockPath(t, encodeURI(path), { depth: '0', timeout: 'Second-600' });
    const saved = await t.request('PUT', encodeURI(path), { body: edit, headers: { ...HOLDER, If: `(<${token}>)` } });
    expect(saved.status).toBe(204);
    return token;
  }

  describe.each<Vendor>(['other', 'owncloud', 'nextcloud'])('--webdav-vendor %s, the lock held through the whole run', (vendor) => {
    runsHere('rclone fails, and the holder\'s edit is what the server has', async () => {
      const path = `/${vendor}/rapport d'été.txt`;
      expect((await t.request('MKCOL', `/${vendor}/`)).status).toBe(201);
      const edit = `holder's edit, ${vendor}\n`;
      const token = await holderSaves(path, edit);
      const local = writeLocal(join(work, vendor), 'old.txt', 'rclone old copy\n', T_OLD);

      const r = await rclone(['copyto', local, remote(t, vendor, path.slice(1)), '--low-level-retries', '2', '--retries', '1', '-v'], home);
      expect({ exit: r.status === 0 ? 0 : 'failed', out: r.status === 0 ? describeRun(r) : '' }).toEqual({ exit: 'failed', out: '' });
      expect(r.output).toMatch(/423|[Ll]ocked/);
      expect(readFileSync(join(t.root, path.slice(1)), 'utf8')).toBe(edit);

      expect((await t.request('UNLOCK', encodeURI(path), { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
      expect(readFileSync(join(t.root, path.slice(1)), 'utf8')).toBe(edit);
    }, 120_000);
  });

  describe.each<Vendor>(['owncloud', 'nextcloud'])('--webdav-vendor %s, the lock released while rclone retries its clean-up DELETE', (vendor) => {
    runsHere('the DELETE is then refused (refused-upload-delete), the retried upload is stale, rclone fails, the edit survives', async () => {
      const path = `/released-${vendor}/notes ünïcode.txt`;
      expect((await t.request('MKCOL', `/released-${vendor}/`)).status).toBe(201);
      const edit = `holder's edit, released, ${vendor}\n`;
      const token = await holderSaves(path, edit);
      const local = writeLocal(join(work, `released-${vendor}`), 'old.txt', 'rclone old copy\n', T_OLD);

      let unlocked: Promise<number> | undefined;
      let sawDelete = false;
      const r = await rcloneWatching(
        ['copyto', local, remote(t, vendor, path.slice(1)), '--low-level-retries', '3', '--retries', '1', '-vv', '--dump', 'headers'],
        home,
        (line) => {
          // rclone's first DELETE met the lock: the holder now unlocks, while rclone retries.
          if (!unlocked && /HTTP\/1\.1 423/.test(line) && sawDelete) {
            unlocked = t.request('UNLOCK', encodeURI(path), { headers: { 'Lock-Token': `<${token}>` } }).then((res) => res.status);
          }
          if (/DEBUG : DELETE /.test(line)) sawDelete = true;
        },
      );
      expect(await unlocked).toBe(204);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/refused-upload-delete|StaleVersionError|stale-version|older than/);
      expect(readFileSync(join(t.root, path.slice(1)), 'utf8')).toBe(edit);
      // Nothing of rclone's old copy is anywhere in the tree: the versions hold only 'original'.
      const versions = JSON.parse((await t.request('GET', `${encodeURI(path)}?versions`)).text) as unknown;
      expect(JSON.stringify(versions)).not.toContain('"delete"');
    }, 120_000);
  });
});

describe.each<'owncloud' | 'nextcloud'>(['owncloud', 'nextcloud'])('rclone checksums with --webdav-vendor %s', (vendor) => {
  let t: TestServer;
  let work: string;
  let home: string;
  let local: string;
  const files: Record<string, Buffer> = {
    'a.txt': Buffer.from('alpha\n'),
    "dossier d'été/ß – 日本.bin": pseudoRandomBytes(70_000, 3),
    'sub dir/empty.bin': Buffer.alloc(0),
    'sub dir/big.bin': pseudoRandomBytes(1_500_000, 9),
  };
  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir(`rclone-sums-${vendor}`);
    home = join(work, 'home');
    local = join(work, 'local');
    mkdirSync(home);
    for (const [rel, bytes] of Object.entries(files)) writeLocal(local, rel, bytes, T_OLD + rel.length);
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  const hashes = (algorithm: 'md5' | 'sha1') =>
    Object.fromEntries(Object.entries(files).map(([rel, bytes]) => [rel, createHash(algorithm).update(bytes).digest('hex')]));

  /** `rclone md5sum`/`sha1sum` output as path → hex. */
  const parseSums = (out: string) =>
    Object.fromEntries(out.split('\n').filter((l) => /^[0-9a-f]{32,40}  /.test(l)).map((l) => [l.slice(l.indexOf('  ') + 2), l.slice(0, l.indexOf('  '))]));

  runsHere('copy sends OC-Checksum, md5sum/sha1sum show the hashes, check compares by hash (a same-size, same-mtime change is found)', async () => {
    const copy = await rclone(['copy', local, remote(t, vendor)], home);
    expect(copy.status === 0 ? '' : describeRun(copy)).toBe('');

    const sha1 = await rclone(['sha1sum', remote(t, vendor)], home);
    expect(parseSums(sha1.stdout)).toEqual(hashes('sha1'));
    if (vendor === 'owncloud') {
      const md5 = await rclone(['md5sum', remote(t, vendor)], home);
      expect(parseSums(md5.stdout)).toEqual(hashes('md5'));
    }

    const check = await rclone(['check', local, remote(t, vendor)], home);
    expect(check.status === 0 ? '' : describeRun(check)).toBe('');
    expect(check.output).not.toMatch(/No common hash found/);
    expect(check.output).toMatch(/4 matching files/);

    // Change the local copy keeping its size and mtime: only a hash comparison sees the difference.
    const changed = join(local, 'a.txt');
    const st = statSync(changed);
    writeFileSync(changed, 'ALPHA\n');
    utimesSync(changed, st.atime, st.mtime);
    const recheck = await rclone(['check', local, remote(t, vendor)], home);
    expect(recheck.status).not.toBe(0);
    expect(recheck.output).toMatch(/1 differences found/);
    expect(recheck.output).toMatch(/a\.txt/);
  }, 120_000);
});
