/**
 * A production install as an operator makes it: `npm pack` (prepack builds dist/ afresh), then
 * `npm install -g --prefix TMP keepdav-*.tgz`, then `keepdav serve` from another directory, a PUT
 * and a GET. Only the compiled code and the runtime dependencies are installed.
 *
 * The install skips install scripts: better-sqlite3 would otherwise compile its native addon
 * from source (its prebuilt download is unreachable here), which takes minutes on a shared
 * machine; the addon the checkout built (same package version, same Node) is copied in instead.
 * Everything else comes from the npm registry (through the cache `npm ci` warmed). The pack runs
 * in a copy of the checkout (sharing its node_modules), so its clean rebuild of dist/ never races
 * the other tests that run this checkout's dist/.
 */
import { execFile, spawn } from 'node:child_process';
import { symlinkSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../support/testServer';

const REPO = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout: 540_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr }),
    );
  });
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keepdav-pack-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('production install from the packed tarball', () => {
  it('installs into a prefix and serves from another directory, without TypeScript', async () => {
    const checkout = join(work, 'checkout');
    cpSync(REPO, checkout, { recursive: true, filter: (from) => !/\/(node_modules|dist|\.git|coverage)$/.test(from.slice(REPO.length)) });
    symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'));
    const packed = await run(NPM, ['pack', '--json', '--pack-destination', work], checkout);
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/keepdav.js', 'bin/dist-status.js', 'dist/cli.js', 'dist/server.js', 'package.json', 'README.md', 'deploy/keepdav.service']));
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.ts') || f.endsWith('.map'))).toEqual([]);

    const prefix = join(work, 'prefix');
    const installed = await run(NPM, ['install', '-g', '--prefix', prefix, join(work, info.filename), '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], work);
    expect(installed.stderr).not.toMatch(/npm error/);
    expect(installed.code).toBe(0);
    const pkg = join(prefix, 'lib', 'node_modules', 'keepdav');
    for (const devOnly of ['typescript', 'ts-node', '@types/node', 'jest']) expect(existsSync(join(pkg, 'node_modules', devOnly))).toBe(false);
    const sqlite = join(pkg, 'node_modules', 'better-sqlite3');
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    expect(version(sqlite)).toBe(version(join(REPO, 'node_modules', 'better-sqlite3')));
    mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
    copyFileSync(join(REPO, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), join(sqlite, 'build', 'Release', 'better_sqlite3.node'));

    const elsewhere = join(work, 'elsewhere');
    mkdirSync(join(elsewhere, 'data'), { recursive: true });
    const child = spawn(join(prefix, 'bin', 'keepdav'), ['serve', '--root', 'data', '--port', '0', '--host', '127.0.0.1'], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/\S+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`keepdav exited ${code}: ${out} ${err}`)));
      });
      const port = Number(new URL(url).port);
      expect((await send(port, undefined, 'PUT', '/hello.txt', { body: 'installed and serving' })).status).toBe(201);
      expect((await send(port, undefined, 'GET', '/hello.txt')).text).toBe('installed and serving');
      expect(readFileSync(join(elsewhere, 'data', 'hello.txt'), 'utf8')).toBe('installed and serving');
      // The default state directory lies beside the root, whoever starts the server.
      expect(statSync(join(elsewhere, 'data.keepdav-state', 'keepdav.sqlite')).isFile()).toBe(true);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 600_000);
});

describe('bin/keepdav.js runs the compiled code or nothing', () => {
  function layout(): string {
    const dir = mkdtempSync(join(work, 'layout-'));
    cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
    return dir;
  }
  const runBin = (dir: string) => run(process.execPath, [join(dir, 'bin', 'keepdav.js'), '--help'], dir);

  it('says dist/ is missing and exits 1', async () => {
    const r = await runBin(layout());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dist/ is missing');
    expect(r.stderr).toContain('npm run build');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('says dist/ is older than src/ and exits 1, rather than running the sources', async () => {
    const dir = layout();
    mkdirSync(join(dir, 'dist'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'dist', 'cli.js'), 'exports.main = async () => { process.stdout.write("compiled ran\\n"); return 0; };');
    writeFileSync(join(dir, 'src', 'cli.ts'), 'edited');
    utimesSync(join(dir, 'dist', 'cli.js'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const stale = await runBin(dir);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('dist/ is older than src/');
    expect(stale.stdout).toBe('');
    // Fresh again: the compiled code runs.
    utimesSync(join(dir, 'dist', 'cli.js'), new Date(), new Date());
    const fresh = await runBin(dir);
    expect(fresh.stdout).toBe('compiled ran\n');
    expect(fresh.code).toBe(0);
  });
});
