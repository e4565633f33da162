/**
 * Starting up as an operator does: every refusal is one line naming the option or the path (no
 * stack trace), sizes and durations take units, `versions` defaults --root like `serve`, and
 * `npm start` starts `serve` with the same default root and state as the command.
 */
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { main } from '../../src/cli';
import { KEEPDAV_BIN, KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

const REPO = join(__dirname, '..', '..');
const BIN = KEEPDAV_BIN;

function keepdav(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let base: string;
let root: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'keepdav-startup-'));
  root = join(base, 'root');
  mkdirSync(root);
  writeFileSync(join(base, 'a-file'), 'not a directory');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The command in this process (a spawned one takes seconds to start here): its exit code and what it wrote. */
async function keepdavHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [writeOut, writeErr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

/** One line on stderr, starting "keepdav:", then the hint; no stack frame. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const [first] = stderr.split('\n');
  expect(first).toMatch(/^keepdav: /);
  expect(first).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('start-up refusals', () => {
  it.each([
    [['--host', 'no-such-host.invalid', '--anonymous', 'write'], /--host no-such-host\.invalid: the name cannot be resolved/],
    [['--state', join('STATE_UNDER_FILE', 'state')], /--state .*a-file.*: cannot create the state directory \(ENOTDIR\)/],
    [['--retain-bytes', '10 bananas'], /--retain-bytes needs a size/],
    [['--idle-timeout', 'soon'], /--idle-timeout needs a duration/],
    [['--log-format', 'xml'], /--log-format takes json, pretty, not "xml"/],
    [['--admin-listen', '0.0.0.0:9090'], /--admin-listen 0\.0\.0\.0:9090: only a loopback address/],
  ])('%j is one line naming it', async (args, pattern) => {
    const real = args.map((a) => a.replace('STATE_UNDER_FILE', join(base, 'a-file')));
    const r = await keepdavHere(['serve', '--root', root, '--port', '0', ...real]);
    expect(r.code).toBeGreaterThan(0);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr, pattern);
  });

  it('accepts sizes and durations with units', async () => {
    const r = await keepdavHere(['serve', '--root', join(base, 'missing-root'), '--retain-bytes', '10GiB', '--retain-days', '12h', '--idle-timeout', '90s', '--lock-timeout-min', '10m', '--max-xml-body', '2MB']);
    // Every option was accepted: the refusal is the missing root, named.
    expectOneLine(r.stderr, /the root .*missing-root does not exist/);
  });
});

describe('one default state location', () => {
  it('versions defaults --root to ./storage and the state beside it, like serve (which it reads, never makes)', async () => {
    mkdirSync(join(base, 'storage'));
    const r = await keepdav(['versions', '/nothing.txt'], base);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`there is no state database in ${join(base, 'storage.keepdav-state')}`);
    expect(existsSync(join(base, 'storage.keepdav-state'))).toBe(false);
  });

  it('npm start runs serve with no --root or --state of its own, so both use the same defaults', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toMatch(/bin\/keepdav\.js serve /);
    expect(scripts.start).not.toMatch(/--root|--state/);
  });
});
