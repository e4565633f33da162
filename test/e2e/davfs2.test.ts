/**
 * davfs2 (Debian package `davfs2`): keepdav mounted as a file system (FUSE), the "network drive"
 * case. Files created, written, renamed, copied and deleted through the mount must reach the server
 * (at the latest on umount), byte-identical. A file locked on the server by someone else must not
 * be overwritten through the mount.
 *
 * Two editors (issue 13): a davfs2 user holds the lock of a file open for writing while rclone
 * uploads an older copy of it, and then closes the file while rclone is still retrying its clean-up
 * DELETE: davfs2's save must be what the server keeps, and rclone must report the failure. And the
 * reverse: rclone saves a new version while a davfs2 user has the old one open; the davfs2 upload is
 * conditional (If-Match), so it can only replace the version it has seen.
 *
 * On Linux >= 6.16 `ls` on a davfs2 mount fails with EINVAL unless davfs2.conf sets `buf_size 64`
 * (README, davfs2): the conf below sets it, and the listing is asserted.
 *
 * Mounting needs root, /dev/fuse and permission to mount. Where any of that is missing (or davfs2 is
 * not installed) the tests are skipped loudly, also in CI: CI does not install davfs2 yet.
 *
 * All file-system calls on the mount are asynchronous: keepdav runs inside this jest process, so a
 * synchronous call that waits on davfs2, which waits on keepdav, would never return.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { lockPath } from '../support/davHttpKit';
import { cleanEnv, fileDigests, programAvailable, pseudoRandomBytes, removeDir, run, runWatching, sleep, tempDir } from '../support/realClientKit';

/** Why davfs2 cannot run here, or undefined when it may (the mount itself is tried in beforeAll). */
function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!programAvailable('mount.davfs')) return 'mount.davfs is not installed (apt-get install -y davfs2)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root (mount.davfs needs root here)';
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing (no FUSE in this sandbox)';
  return undefined;
}

const DAVFS2_CACHE = '/var/cache/davfs2';

function mounted(mountPoint: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === mountPoint);
}

describe('davfs2 (keepdav mounted as a file system)', () => {
  let t: TestServer;
  let work: string;
  let mnt: string;
  /** Set when davfs2 cannot be used here: every test then logs it and returns (a loud skip). */
  let skipReason = cannotRun();

  const big = pseudoRandomBytes(3 * 1024 * 1024 + 17, 2024);
  const usable = () => {
    if (skipReason) console.error(`davfs2 test skipped: ${skipReason}`);
    return !skipReason;
  };

  beforeAll(async () => {
    if (skipReason) {
      console.error(`davfs2 tests are skipped: ${skipReason}`);
      return;
    }
    t = await startTestServer();
    work = tempDir('davfs2');
    mnt = join(work, 'mnt');
    mkdirSync(mnt);
    // mount.davfs drops root for its own user (davfs2), which must reach the mount point. Its cache
    // stays the system one (/var/cache/davfs2, one subdirectory per mount point).
    chmodSync(work, 0o755);
    const conf = join(work, 'davfs2.conf');
    writeFileSync(
      conf,
      ['ask_auth 0', 'use_locks 1', 'delay_upload 0', 'dir_refresh 1', 'file_refresh 1', 'lock_timeout 1800', 'buf_size 64', ''].join('\n'),
    );
    // The two empty lines answer the user name and password prompts (ask_auth 0 should make them moot).
    const r = await run('mount.davfs', [t.url, mnt, '-o', `conf=${conf}`], { input: '\n\n', timeoutMs: 30_000 });
    if (r.status !== 0 || !mounted(mnt)) {
      skipReason = `mounting is not possible here: mount.davfs exited ${r.status}${r.error ? ` (${r.error.message})` : ''}: ${r.output.replace(/\s+/g, ' ').trim().slice(-400)}`;
      console.error(`davfs2 tests are skipped: ${skipReason}`);
    }
  }, 60_000);

  afterAll(async () => {
    if (mnt && mounted(mnt)) {
      const r = await run('umount', [mnt], { timeoutMs: 60_000 });
      if (r.status !== 0 || mounted(mnt)) await run('umount', ['-l', mnt], { timeoutMs: 10_000 });
    }
    if (mnt && !mounted(mnt)) {
      // davfs2 keeps a cache per mount point (host+mountpoint+user); ours was a temporary one.
      const mangled = mnt.slice(1).replace(/\//g, '-');
      for (const name of existsSync(DAVFS2_CACHE) ? readdirSync(DAVFS2_CACHE) : []) {
        if (name.includes(`+${mangled}+`)) removeDir(join(DAVFS2_CACHE, name));
      }
    }
    await t?.close();
    removeDir(work);
  }, 90_000);

  it('creates, writes, renames, copies and deletes through the mount; after umount the server tree holds exactly the result', async () => {
    if (!usable()) return;
    await mkdir(join(mnt, 'docs'));
    await mkdir(join(mnt, 'docs', 'été – 日本語'));
    await writeFile(join(mnt, 'docs', 'hello.txt'), 'hello through davfs2\n');
    await writeFile(join(mnt, 'docs', 'été – 日本語', 'naïve file.txt'), 'Grüße\n');
    await writeFile(join(mnt, 'docs', 'big.bin'), big);
    await writeFile(join(mnt, 'docs', 'empty.txt'), '');
    await writeFile(join(mnt, 'docs', 'doomed.txt'), 'to be deleted\n');
    await writeFile(join(mnt, 'draft.txt'), 'version 1\n');

    // Rewrite, rename, copy, delete.
    await writeFile(join(mnt, 'draft.txt'), 'version 2, longer than the first\n');
    await rename(join(mnt, 'draft.txt'), join(mnt, 'docs', 'final.txt'));
    await copyFile(join(mnt, 'docs', 'big.bin'), join(mnt, 'docs', 'big copy.bin'));
    await unlink(join(mnt, 'docs', 'doomed.txt'));
    await mkdir(join(mnt, 'gone'));
    await rm(join(mnt, 'gone'), { recursive: true });

    // Read back through the mount.
    expect(await readFile(join(mnt, 'docs', 'final.txt'), 'utf8')).toBe('version 2, longer than the first\n');
    expect((await readFile(join(mnt, 'docs', 'big copy.bin'))).equals(big)).toBe(true);
    expect((await stat(join(mnt, 'docs', 'empty.txt'))).size).toBe(0);
    await expect(stat(join(mnt, 'docs', 'doomed.txt'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Listing a folder through the mount (needs `buf_size 64` on Linux >= 6.16, set above).
    const names = (await readdir(join(mnt, 'docs'))).filter((n) => n !== 'lost+found').sort();
    expect(names).toEqual(['big copy.bin', 'big.bin', 'empty.txt', 'final.txt', 'hello.txt', 'été – 日本語']);
    expect(await readdir(join(mnt, 'docs', 'été – 日本語'))).toEqual(['naïve file.txt']);

    const r = await run('umount', [mnt], { timeoutMs: 90_000 });
    expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
    expect(mounted(mnt)).toBe(false);

    const onServer = fileDigests(t.root);
    const expected = fileDigests(
      (() => {
        const ref = join(work, 'expected');
        mkdirSync(join(ref, 'docs', 'été – 日本語'), { recursive: true });
        writeFileSync(join(ref, 'docs', 'hello.txt'), 'hello through davfs2\n');
        writeFileSync(join(ref, 'docs', 'été – 日本語', 'naïve file.txt'), 'Grüße\n');
        writeFileSync(join(ref, 'docs', 'big.bin'), big);
        writeFileSync(join(ref, 'docs', 'big copy.bin'), big);
        writeFileSync(join(ref, 'docs', 'empty.txt'), '');
        writeFileSync(join(ref, 'docs', 'final.txt'), 'version 2, longer than the first\n');
        return ref;
      })(),
    );
    expect(onServer).toEqual(expected);
    expect(existsSync(join(t.root, 'gone'))).toBe(false);
    expect(existsSync(join(t.root, 'lost+found'))).toBe(false);
  }, 180_000);

  it('a file locked on the server by another client is not overwritten through the mount', async () => {
    if (!usable()) return;
    // Mount again (the first test unmounted).
    const conf = join(work, 'davfs2.conf');
    if (!mounted(mnt)) {
      const m = await run('mount.davfs', [t.url, mnt, '-o', `conf=${conf}`], { input: '\n\n', timeoutMs: 30_000 });
      expect({ status: m.status, mounted: mounted(mnt) }).toEqual({ status: 0, mounted: true });
    }
    const original = readFileSync(join(t.root, 'docs', 'hello.txt'));
    const { res } = await lockPath(t, '/docs/hello.txt', { owner: '<D:href>another user</D:href>' });
    expect(res.status).toBe(200);

    // The write may fail at once (EIO/EBUSY/EACCES) or be accepted locally and fail on upload
    // (davfs2 then keeps it in its lost+found backup directory); either way the server keeps the original.
    let writeError: string | undefined;
    try {
      await writeFile(join(mnt, 'docs', 'hello.txt'), 'overwritten through the mount\n');
    } catch (e) {
      writeError = (e as NodeJS.ErrnoException).code;
    }
    await sleep(2000);
    const r = await run('umount', [mnt], { timeoutMs: 90_000 });
    expect(r.status).toBe(0);
    expect(readFileSync(join(t.root, 'docs', 'hello.txt')).equals(original)).toBe(true);
    console.error(`davfs2: write onto a file locked by someone else: ${writeError ? `refused with ${writeError}` : 'accepted locally, upload refused by keepdav'}; server copy intact`);
  }, 180_000);

  /** Mounts again when a test before unmounted. */
  async function ensureMounted(): Promise<void> {
    if (mounted(mnt)) return;
    const m = await run('mount.davfs', [t.url, mnt, '-o', `conf=${join(work, 'davfs2.conf')}`], { input: '\n\n', timeoutMs: 30_000 });
    expect({ status: m.status, mounted: mounted(mnt) }).toEqual({ status: 0, mounted: true });
  }

  /** The active lock tokens on `path`, as the server reports them. */
  async function activeLockCount(path: string): Promise<number> {
    const res = await t.request('PROPFIND', encodeURI(path), {
      headers: { Depth: '0', 'Content-Type': 'application/xml' },
      body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    });
    return (res.text.match(/<D:activelock>/g) ?? []).length;
  }

  const rcloneHome = () => {
    const home = join(work, 'rclone-home');
    mkdirSync(home, { recursive: true });
    return home;
  };
  const rcloneArgs = (local: string, target: string, extra: string[]) =>
    ['--config', '/dev/null', 'copyto', local, `:webdav,url='${t.url}',vendor=owncloud:${target}`, ...extra];

  it('two editors: davfs2 holds the lock of an open file while rclone uploads an older copy, then saves while rclone retries; its save stays', async () => {
    if (!usable() || !programAvailable('rclone')) return void console.error('davfs2 two-editor test skipped: needs davfs2 mounting and rclone');
    await ensureMounted();
    await mkdir(join(mnt, 'editors'), { recursive: true });
    await writeFile(join(mnt, 'editors', "rapport d'été.txt"), 'original\n');
    await sleep(1500);
    const handle = await open(join(mnt, 'editors', "rapport d'été.txt"), 'r+');
    let closed: Promise<void> | undefined;
    try {
      await handle.write('edited through davfs2, still open\n', 0);
      await handle.truncate(Buffer.byteLength('edited through davfs2, still open\n'));
      expect(await activeLockCount("/editors/rapport d'été.txt")).toBe(1);

      const local = join(work, 'rclone-old.txt');
      writeFileSync(local, 'rclone old copy\n');
      utimesSync(local, 1_600_000_000, 1_600_000_000);
      let sawDelete = false;
      const r = await runWatching('rclone', rcloneArgs(local, "editors/rapport d'été.txt", ['--low-level-retries', '3', '--retries', '1', '-vv', '--dump', 'headers']), (line) => {
        if (/DEBUG : DELETE /.test(line)) sawDelete = true;
        // rclone's clean-up DELETE met davfs2's lock: the davfs2 user now saves and closes the file.
        if (!closed && sawDelete && /HTTP\/1\.1 423/.test(line)) closed = handle.close();
      }, { env: cleanEnv({ HOME: rcloneHome() }), timeoutMs: 120_000 });
      await closed;
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/423/);
    } finally {
      if (!closed) await handle.close();
    }
    // davfs2 uploads on close and unlocks; its save is what the server keeps.
    for (let i = 0; i < 40 && (await activeLockCount("/editors/rapport d'été.txt")) > 0; i++) await sleep(250);
    await sleep(1000);
    expect(readFileSync(join(t.root, 'editors', "rapport d'été.txt"), 'utf8')).toBe('edited through davfs2, still open\n');
  }, 180_000);

  it('the reverse: rclone saves a new version while a davfs2 user has the old one open; davfs2 never replaces a version it has not seen', async () => {
    if (!usable() || !programAvailable('rclone')) return void console.error('davfs2 two-editor test skipped: needs davfs2 mounting and rclone');
    await ensureMounted();
    await mkdir(join(mnt, 'editors'), { recursive: true });
    await writeFile(join(mnt, 'editors', 'notes ünïcode.txt'), 'version 1\n');
    await sleep(1500);
    expect(await readFile(join(mnt, 'editors', 'notes ünïcode.txt'), 'utf8')).toBe('version 1\n');

    const local = join(work, 'rclone-new.txt');
    writeFileSync(local, 'version 2 by rclone\n');
    const r = await run('rclone', rcloneArgs(local, 'editors/notes ünïcode.txt', []), { env: cleanEnv({ HOME: rcloneHome() }), timeoutMs: 60_000 });
    expect(r.status === 0 ? '' : r.output).toBe('');

    // The davfs2 user edits the file: what it shows is either the version it cached or rclone's.
    const handle = await open(join(mnt, 'editors', 'notes ünïcode.txt'), 'r+');
    const seen = (await handle.readFile('utf8')).toString();
    await handle.write('edited through davfs2\n', 0);
    await handle.truncate(Buffer.byteLength('edited through davfs2\n'));
    await handle.close();
    for (let i = 0; i < 40 && (await activeLockCount('/editors/notes ünïcode.txt')) > 0; i++) await sleep(250);
    await sleep(1000);
    const onServer = readFileSync(join(t.root, 'editors', 'notes ünïcode.txt'), 'utf8');
    if (seen === 'version 2 by rclone\n') {
      // davfs2 revalidated and edited rclone's version: a later edit, not a lost save.
      expect(onServer).toBe('edited through davfs2\n');
    } else {
      // davfs2 edited its stale copy: its conditional upload is refused, rclone's version stays.
      expect(seen).toBe('version 1\n');
      expect(onServer).toBe('version 2 by rclone\n');
    }
    console.error(`davfs2 reverse two-editor: davfs2 ${seen === 'version 1\n' ? 'edited its stale copy (upload refused)' : "revalidated and edited rclone's version"}`);
  }, 180_000);
});
