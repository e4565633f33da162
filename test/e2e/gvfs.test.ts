/**
 * GNOME's GVFS (Debian packages `gvfs-backends` and `libglib2.0-bin` for `gio`) against a real
 * keepdav: a `dav://` location mounted through gvfsd-dav on a private D-Bus session
 * (`dbus-run-session`, no desktop needed), then a session of gio commands: mkdir, copy a tree of
 * awkward names file by file, list, info, rename, move, overwrite (GVFS replaces with If-Match),
 * save from stdin, remove a file and a folder, copy back, compare bytes. GVFS states no
 * modification times on upload, so times are compared with what the server reports.
 *
 * gio needs gvfsd and a session bus; where dbus-run-session, gio or gvfsd-dav is missing the test is
 * skipped loudly (CI installs them). When gvfsd cannot mount at all the test fails with gio's message.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { cleanEnv, fileDigests, itWhenInstalled, programAvailable, removeDir, run, tempDir } from '../support/realClientKit';
import { AWKWARD_FILES, writeAwkwardTree } from '../support/awkwardTree';

const gvfsAvailable = programAvailable('gio') && programAvailable('dbus-run-session') && existsSync('/usr/libexec/gvfsd-dav');
const runsHere = itWhenInstalled('gio/gvfs (dav backend)', gvfsAvailable, 'apt-get install -y gvfs-backends libglib2.0-bin dbus');

/** Single-quoted for bash. */
const sh = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

describe('gio / GVFS (dav://)', () => {
  let t: TestServer;
  let work: string;
  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('gvfs');
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  runsHere('a whole session through gvfsd-dav: folders, copy a tree, list, info, rename, move, overwrite, save, remove, copy back', async () => {
    const local = join(work, 'local');
    const down = join(work, 'down');
    mkdirSync(local);
    mkdirSync(down);
    writeAwkwardTree(local);
    const base = `dav://127.0.0.1:${t.port}`;
    const dav = (rel: string) => `${base}/${rel.split('/').map(encodeURIComponent).join('/')}`;
    const dirs = [...new Set(AWKWARD_FILES.flatMap((rel) => rel.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))].sort();
    const lines = [
      'set -euo pipefail',
      `gio mount ${sh(base + '/')} </dev/null`,
      `gio mkdir ${sh(dav('g'))}`,
      ...dirs.map((d) => `gio mkdir ${sh(dav(`g/${d}`))}`),
      ...AWKWARD_FILES.map((rel) => `gio copy ${sh(join(local, rel))} ${sh(dav(`g/${rel}`))}`),
      'echo "== list"',
      `gio list ${sh(dav('g/with space'))}`,
      'echo "== info"',
      `gio info -a standard::size,time::modified ${sh(dav("g/it's here.txt"))}`,
      `gio rename ${sh(dav("g/it's here.txt"))} ${sh("it's renamed.txt")}`,
      `gio move ${sh(dav('g/with space/a&b+c.txt'))} ${sh(dav('g/été/a&b+c moved.txt'))}`,
      `gio copy ${sh(join(local, 'plain/bigger.bin'))} ${sh(dav('g/plain/empty.bin'))}`,
      `printf 'saved by gio\\n' | gio save ${sh(dav('g/Ünïcødé/ßtraße €.dat'))}`,
      `gio remove ${sh(dav('g/with space/semi;colon=and,comma.txt'))}`,
      `gio remove ${sh(dav("g/with space/l'apostrophe d'été/deep file.txt"))}`,
      `gio remove ${sh(dav("g/with space/l'apostrophe d'été"))}`,
      `gio copy ${sh(dav("g/it's renamed.txt"))} ${sh(join(down, "it's renamed.txt"))}`,
      `gio copy ${sh(dav('g/plain/empty.bin'))} ${sh(join(down, 'empty.bin'))}`,
      `gio copy ${sh(dav('g/été/naïve – 日本語.txt'))} ${sh(join(down, 'naïve – 日本語.txt'))}`,
      `gio mount -u ${sh(base + '/')}`,
    ];
    const script = join(work, 'session.sh');
    writeFileSync(script, lines.join('\n') + '\n');
    const runtime = join(work, 'xdg-runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const r = await run('dbus-run-session', ['--', 'bash', script], {
      timeoutMs: 90_000,
      env: cleanEnv({ HOME: work, XDG_RUNTIME_DIR: runtime, GIO_USE_VFS: 'gvfs', NO_AT_BRIDGE: '1' }, ['DBUS_', 'XDG_']),
    });
    if (r.status !== 0) console.error(`gio/GVFS could not complete its session here:\n${r.output.slice(-3000)}`);
    expect(r.status === 0 ? '' : r.output.slice(-3000)).toBe('');

    const listed = r.stdout.split('== list\n')[1].split('== info')[0].split('\n').filter(Boolean).sort();
    expect(listed).toEqual(['a&b+c.txt', "l'apostrophe d'été", 'semi;colon=and,comma.txt']);
    const info = r.stdout.split('== info\n')[1];
    expect(info).toContain(`standard::size: ${readFileSync(join(local, "it's here.txt")).length}`);
    expect(info).toMatch(/time::modified: \d+/);

    const g = join(t.root, 'g');
    expect(readFileSync(join(g, "it's renamed.txt"))).toEqual(readFileSync(join(local, "it's here.txt")));
    expect(existsSync(join(g, "it's here.txt"))).toBe(false);
    expect(readFileSync(join(g, 'été/a&b+c moved.txt'))).toEqual(readFileSync(join(local, 'with space/a&b+c.txt')));
    expect(readFileSync(join(g, 'plain/empty.bin'))).toEqual(readFileSync(join(local, 'plain/bigger.bin')));
    expect(readFileSync(join(g, 'Ünïcødé/ßtraße €.dat'), 'utf8')).toBe('saved by gio\n');
    expect(existsSync(join(g, 'with space/semi;colon=and,comma.txt'))).toBe(false);
    expect(existsSync(join(g, "with space/l'apostrophe d'été"))).toBe(false);
    expect(fileDigests(down)).toEqual({
      "it's renamed.txt": fileDigests(g)["it's renamed.txt"],
      'empty.bin': fileDigests(g)['plain/empty.bin'],
      'naïve – 日本語.txt': fileDigests(g)['été/naïve – 日本語.txt'],
    });
  }, 120_000);
});
