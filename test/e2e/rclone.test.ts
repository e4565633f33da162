/**
 * rclone (Debian package `rclone`) against a real keepdav: copy, check, sync and lsjson of a tree
 * of a few hundred files (nested folders, Unicode and awkward names, a 0-byte and a 5 MiB file,
 * varied mtimes), with `--webdav-vendor other` and `owncloud` (which states mtimes with
 * X-OC-Mtime); and the stale-upload scenario: rclone must not replace a newer file with an older
 * one, not even through the DELETE it sends after a failed upload.
 */
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import {
  cleanEnv,
  fileDigests,
  fileMtimes,
  itWhenInstalled,
  programAvailable,
  programRuns,
  pseudoRandomBytes,
  removeDir,
  run,
  sleep,
  tempDir,
  type RunResult,
} from '../support/realClientKit';

const rcloneAvailable = programAvailable('rclone') && programRuns('rclone', ['version']);
const runsHere = itWhenInstalled('rclone', rcloneAvailable, 'apt-get install -y rclone');

type Vendor = 'other' | 'owncloud';

/** A connection string naming keepdav as an rclone webdav remote (no config file involved). */
function remote(t: TestServer, vendor: Vendor, path = ''): string {
  return `:webdav,url='${t.url}',vendor=${vendor}:${path}`;
}

function rclone(args: string[], home: string, timeoutMs = 180_000): Promise<RunResult> {
  return run('rclone', ['--config', '/dev/null', ...args], {
    timeoutMs,
    env: cleanEnv({ HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config') }),
  });
}

function describeRun(r: RunResult): string {
  return `exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}${r.error ? ` error ${r.error.message}` : ''}\n${r.output.slice(-6000)}`;
}

function expectSuccess(r: RunResult): void {
  if (r.status !== 0) throw new Error(`rclone failed: ${describeRun(r)}`);
}

/** Writes a file with the given content and modification time (whole seconds). */
function writeLocal(root: string, rel: string, content: Buffer | string, mtimeSec: number): void {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  utimesSync(abs, mtimeSec, mtimeSec);
}

const BASE_MTIME = 1_500_000_000; // 2017-07-14

/**
 * The local tree: 10 top folders (some with Unicode names and spaces), 2 subfolders each, 12 files
 * per folder, plus named special cases. Returns the relative file paths.
 */
function buildLocalTree(root: string): string[] {
  const tops = ['été', '日本語 フォルダ', 'with space', 'Ünïcødé', 'plain', 'a&b+c', "it's", 'ŝpëcïål', 'deep', 'zz last'];
  const files: string[] = [];
  let n = 0;
  for (const top of tops) {
    for (const sub of ['', 'sub one', 'κατάλογος']) {
      for (let i = 0; i < 12; i++) {
        const name = i % 3 === 0 ? `file ${i}.txt` : i % 3 === 1 ? `données-${i}.bin` : `名前_${i}.dat`;
        const rel = sub === '' ? `${top}/${name}` : `${top}/${sub}/${name}`;
        n++;
        writeLocal(root, rel, pseudoRandomBytes((n * 379) % 5000, n), BASE_MTIME + n * 7919);
        files.push(rel);
      }
    }
  }
  const specials: Array<[string, Buffer | string]> = [
    ['été/naïve – 日本語.txt', 'naïve – 日本語 content\n'],
    ['empty file.bin', Buffer.alloc(0)],
    ['big/five-mib.bin', pseudoRandomBytes(5 * 1024 * 1024, 4242)],
    ['100% done #1.txt', 'percent and hash\n'],
    ['semi;colon=and,comma.txt', 'separators\n'],
    ['deep/a/b/c/d/e/leaf.txt', 'leaf\n'],
  ];
  for (const [rel, content] of specials) {
    n++;
    writeLocal(root, rel, content, BASE_MTIME + n * 7919);
    files.push(rel);
  }
  return files;
}

/** rclone's "N differences found" count, or NaN when the output has none. */
function differences(r: RunResult): number {
  const m = /(\d+) differences found/.exec(r.output);
  return m ? Number(m[1]) : NaN;
}

interface LsEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

describe.each<Vendor>(['other', 'owncloud'])('rclone --webdav-vendor %s', (vendor) => {
  let t: TestServer;
  let work: string;
  let local: string;
  let home: string;

  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir(`rclone-${vendor}`);
    local = join(work, 'local');
    home = join(work, 'home');
    mkdirSync(home);
    mkdirSync(local);
    buildLocalTree(local);
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  runsHere(
    'copies the tree: check finds 0 differences and the files on disk are byte-identical',
    async () => {
      const copy = await rclone(['copy', local, remote(t, vendor), '--transfers', '4'], home);
      expectSuccess(copy);

      const check = await rclone(['check', local, remote(t, vendor)], home);
      expect({ exit: check.status, differences: differences(check), out: check.status === 0 ? '' : describeRun(check) }).toEqual({ exit: 0, differences: 0, out: '' });

      const expected = fileDigests(local);
      expect(Object.keys(expected).length).toBeGreaterThan(300);
      expect(fileDigests(t.root)).toEqual(expected);
      expect(statSync(join(t.root, 'empty file.bin')).size).toBe(0);
      expect(statSync(join(t.root, 'big/five-mib.bin')).size).toBe(5 * 1024 * 1024);
      expect(readFileSync(join(t.root, 'été/naïve – 日本語.txt'), 'utf8')).toBe('naïve – 日本語 content\n');

      if (vendor === 'owncloud') {
        // X-OC-Mtime: every file on disk has the local modification time, to the second.
        expect(fileMtimes(t.root)).toEqual(fileMtimes(local));
      }

      // A second copy finds everything up to date and transfers nothing.
      const again = await rclone(['copy', local, remote(t, vendor), '-v'], home);
      expectSuccess(again);
      expect(again.output).not.toMatch(/Copied \((new|replaced existing)\)/);
    },
    240_000,
  );

  runsHere(
    'lsjson sees every file with its size and modification time',
    async () => {
      const ls = await rclone(['lsjson', '-R', remote(t, vendor)], home);
      expectSuccess(ls);
      const entries = JSON.parse(ls.stdout) as LsEntry[];
      const files = entries.filter((e) => !e.IsDir);
      const seen = Object.fromEntries(files.map((e) => [e.Path, { size: e.Size, mtime: Math.floor(Date.parse(e.ModTime) / 1000) }]));
      const onDisk = fileDigests(t.root);
      const diskMtimes = fileMtimes(t.root);
      const localMtimes = fileMtimes(local);
      const expected = Object.fromEntries(
        Object.entries(onDisk).map(([path, digest]) => [
          path,
          // owncloud: the local mtimes, kept by the server; other: whatever the server stored (upload time).
          { size: Number(digest.split(':')[1]), mtime: vendor === 'owncloud' ? localMtimes[path] : diskMtimes[path] },
        ]),
      );
      expect(seen).toEqual(expected);
      expect(entries.filter((e) => e.IsDir).map((e) => e.Path)).toEqual(expect.arrayContaining(['été', '日本語 フォルダ', 'deep/a/b/c/d/e']));
    },
    120_000,
  );

  runsHere(
    'sync after local changes and deletions: check (with --download) finds 0 differences and the server tree equals the local one',
    async () => {
      const now = Math.floor(Date.now() / 1000) - 3600;
      // Changed content (size changes, newer mtime).
      const changed = ['été/file 0.txt', '日本語 フォルダ/sub one/données-1.bin', 'big/five-mib.bin', 'été/naïve – 日本語.txt', 'with space/κατάλογος/名前_2.dat'];
      changed.forEach((rel, i) => writeLocal(local, rel, pseudoRandomBytes(1000 + i * 333, 900 + i), now + i));
      if (vendor === 'owncloud') {
        // Same size, different bytes, newer mtime: only the mtime tells rclone to upload it.
        const rel = 'plain/file 3.txt';
        const size = statSync(join(local, rel)).size;
        writeLocal(local, rel, pseudoRandomBytes(size, 31337), now + 100);
      }
      // Deleted files and a whole folder.
      for (const rel of ['plain/file 0.txt', 'a&b+c/sub one/données-4.bin', 'empty file.bin', '100% done #1.txt']) rmSync(join(local, rel));
      rmSync(join(local, "it's"), { recursive: true });
      // New files.
      writeLocal(local, 'new folder/ñew – файл.txt', 'new\n', now + 200);
      writeLocal(local, 'zz last/brand new.bin', pseudoRandomBytes(777, 5), now + 201);

      const sync = await rclone(['sync', local, remote(t, vendor), '-v'], home);
      expectSuccess(sync);

      const check = await rclone(['check', '--download', local, remote(t, vendor)], home);
      expect({ exit: check.status, differences: differences(check), out: check.status === 0 ? '' : describeRun(check) }).toEqual({ exit: 0, differences: 0, out: '' });

      expect(fileDigests(t.root)).toEqual(fileDigests(local));
      if (vendor === 'owncloud') expect(fileMtimes(t.root)).toEqual(fileMtimes(local));

      const ls = await rclone(['lsjson', '-R', '--files-only', remote(t, vendor)], home);
      expectSuccess(ls);
      const listed = (JSON.parse(ls.stdout) as LsEntry[]).map((e) => e.Path).sort();
      expect(listed).toEqual(Object.keys(fileDigests(local)).sort());
    },
    240_000,
  );
});

describe('rclone --webdav-vendor owncloud: a stale upload never replaces a newer file', () => {
  let t: TestServer;
  let work: string;
  let home: string;

  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('rclone-stale');
    home = join(work, 'home');
    mkdirSync(home);
  });
  afterAll(async () => {
    await t?.close();
    removeDir(work);
  });

  const T1 = 1_600_000_000; // 2020-09-13: the local, older version
  const T2 = 1_700_000_000; // 2023-11-14: the server's, newer version
  const contentA = 'A: the OLD local content\n';
  const contentB = 'B: the newer content already on the server, which must survive\n';

  /** The requests and answers of an rclone run with --dump headers, in order. */
  function exchanges(r: RunResult): Array<{ method: string; path: string; status?: number }> {
    const out: Array<{ method: string; path: string; status?: number }> = [];
    for (const line of r.output.split('\n')) {
      const req = /DEBUG : ([A-Z]+) (\S+) HTTP\/1\.1\s*$/.exec(line);
      if (req) out.push({ method: req[1], path: decodeURIComponent(req[2]) });
      const res = /DEBUG : HTTP\/1\.1 (\d{3})/.exec(line);
      if (res && out.length > 0 && out[out.length - 1].status === undefined) out[out.length - 1].status = Number(res[1]);
    }
    return out;
  }

  runsHere(
    'copyto --ignore-times of an older local file: rclone reports the conflict, its DELETE is refused, the server keeps B',
    async () => {
      const target = 'docs/rapport été.txt';
      // Another client (rclone too) uploaded version B with mtime T2.
      const newer = join(work, 'newer');
      writeLocal(newer, 'r.txt', contentB, T2);
      expectSuccess(await rclone(['copyto', join(newer, 'r.txt'), remote(t, 'owncloud', target)], home));
      expect(readFileSync(join(t.root, target), 'utf8')).toBe(contentB);
      expect(Math.floor(statSync(join(t.root, target)).mtimeMs / 1000)).toBe(T2);

      // This client still has version A with the older mtime T1 and forces the upload.
      const older = join(work, 'older');
      writeLocal(older, 'r.txt', contentA, T1);
      const r = await rclone(['copyto', join(older, 'r.txt'), remote(t, 'owncloud', target), '--ignore-times', '-v', '--dump', 'headers'], home);

      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/StaleVersionError|older than the stored version/);
      expect(r.output).toMatch(/409/);
      // rclone did try to upload and then to delete what it "failed" to upload; both were refused.
      const seen = exchanges(r).filter((e) => (e.method === 'PUT' || e.method === 'DELETE') && e.path === `/${target}`);
      expect(seen.filter((e) => e.method === 'PUT').length).toBeGreaterThanOrEqual(1);
      expect(seen.every((e) => e.status === 409)).toBe(true);
      expect(seen.some((e) => e.method === 'DELETE')).toBe(true);

      expect(readFileSync(join(t.root, target), 'utf8')).toBe(contentB);
      await sleep(3000);
      expect(readFileSync(join(t.root, target), 'utf8')).toBe(contentB);
      expect(Math.floor(statSync(join(t.root, target)).mtimeMs / 1000)).toBe(T2);

      // What rclone sees afterwards is still version B.
      const ls = await rclone(['lsjson', remote(t, 'owncloud', 'docs')], home);
      expectSuccess(ls);
      const entry = (JSON.parse(ls.stdout) as LsEntry[]).find((e) => e.Path === 'rapport été.txt');
      expect(entry && { size: entry.Size, mtime: Date.parse(entry.ModTime) / 1000 }).toEqual({ size: Buffer.byteLength(contentB), mtime: T2 });
      const cat = await rclone(['cat', remote(t, 'owncloud', target)], home);
      expect(cat.stdout).toBe(contentB);
    },
    120_000,
  );

  runsHere(
    'copy --no-check-dest of a folder: the fresh files arrive, the stale one is refused and survives',
    async () => {
      const src = join(work, 'folder-src');
      // On the server: folder/keep.txt, newer (T2), content B.
      const seed = join(work, 'folder-seed');
      writeLocal(seed, 'keep.txt', contentB, T2);
      expectSuccess(await rclone(['copy', seed, remote(t, 'owncloud', 'folder')], home));

      writeLocal(src, 'keep.txt', contentA, T1); // stale
      writeLocal(src, 'fresh one.txt', 'fresh\n', T1);
      writeLocal(src, 'sub/fresh two.txt', 'fresh two\n', T2 + 10);
      const r = await rclone(['copy', src, remote(t, 'owncloud', 'folder'), '--no-check-dest', '-v'], home);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/keep\.txt.*(StaleVersionError|older than the stored version)/);

      await sleep(3000);
      expect(readFileSync(join(t.root, 'folder/keep.txt'), 'utf8')).toBe(contentB);
      expect(Math.floor(statSync(join(t.root, 'folder/keep.txt')).mtimeMs / 1000)).toBe(T2);
      expect(readFileSync(join(t.root, 'folder/fresh one.txt'), 'utf8')).toBe('fresh\n');
      expect(readFileSync(join(t.root, 'folder/sub/fresh two.txt'), 'utf8')).toBe('fresh two\n');
      expect(Math.floor(statSync(join(t.root, 'folder/fresh one.txt')).mtimeMs / 1000)).toBe(T1);
    },
    120_000,
  );

  runsHere(
    'a newer local file (T3 > T2) does replace the server version',
    async () => {
      const target = 'docs/rapport été.txt';
      const newest = join(work, 'newest');
      const T3 = T2 + 86_400;
      writeLocal(newest, 'r.txt', 'C: newest\n', T3);
      expectSuccess(await rclone(['copyto', join(newest, 'r.txt'), remote(t, 'owncloud', target), '-v'], home));
      expect(readFileSync(join(t.root, target), 'utf8')).toBe('C: newest\n');
      expect(Math.floor(statSync(join(t.root, target)).mtimeMs / 1000)).toBe(T3);
    },
    60_000,
  );
});
