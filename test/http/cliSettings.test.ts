/**
 * `keepdav serve` settings from a YAML --config file and KEEPDAV_* variables (flags > variables >
 * file > defaults), their error messages, and `keepdav --version`, as a user runs the command.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { send } from '../support/testServer';
import { KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';

const REPO = resolve(__dirname, '..', '..');
const BIN = join(REPO, 'bin', 'keepdav.js');
jest.setTimeout(90_000);

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs keepdav; when it prints its listening line, `onListening` runs and the server is stopped (SIGTERM). */
function keepdav(args: string[], env: Record<string, string> = {}, onListening?: (url: string) => Promise<void>): Promise<Outcome & { error?: unknown }> {
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEEPDAV_')));
  const child = spawn(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { cwd: REPO, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let error: unknown;
  let acted = false;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const m = /listening on (\S+)/.exec(stdout);
    if (m && !acted) {
      acted = true;
      void (onListening ?? (async () => undefined))(m[1])
        .catch((e: unknown) => (error = e))
        .finally(() => child.kill('SIGTERM'));
    }
  });
  return new Promise((res) => child.once('close', (code) => res({ code, stdout, stderr, error })));
}

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-cli-settings-'));
  await mkdir(join(base, 'share'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

it('--version and -V print the package version', async () => {
  const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await keepdav([flag]);
    expect(r).toMatchObject({ code: 0, stdout: `keepdav ${version}\n` });
  }
});

it('the help lists the new options from the option table', async () => {
  const r = await keepdav(['--help']);
  for (const option of ['--config FILE', '--tls-cert FILE', '--tls-key FILE', '--base-path PATH', '--trust-proxy', '--version', 'KEEPDAV_']) expect(r.stdout).toContain(option);
});

it('a file sets the settings (paths next to it); a variable beats the file; a flag beats the variable', async () => {
  const file = join(base, 'keepdav.yaml');
  await writeFile(file, 'root: share\nstate: state\nport: 0\nhost: 127.0.0.1\nbase-path: /from-file/\nretain-versions: 3\n');
  await writeFile(join(base, 'share', 'hello.txt'), 'hi');

  const fromFile = await keepdav(['serve', '--config', file], {}, async (url) => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/from-file\/$/);
    const port = Number(new URL(url).port);
    expect((await send(port, undefined, 'GET', '/from-file/hello.txt')).text).toBe('hi');
  });
  expect(fromFile.error).toBeUndefined();
  expect(fromFile.code).toBe(0);

  const fromEnv = await keepdav(['serve'], { KEEPDAV_CONFIG: file, KEEPDAV_BASE_PATH: '/from-env/' }, async (url) => {
    expect(url).toMatch(/\/from-env\/$/);
  });
  expect(fromEnv.error).toBeUndefined();

  const fromFlag = await keepdav(['serve', '--base-path', '/from-flag/'], { KEEPDAV_CONFIG: file, KEEPDAV_BASE_PATH: '/from-env/' }, async (url) => {
    expect(url).toMatch(/\/from-flag\/$/);
  });
  expect(fromFlag.error).toBeUndefined();
});

it.each([
  ['an unknown key', 'root: share\nlisten: 8080\n', /keepdav: .*bad\.yaml: unknown key "listen"/],
  ['a bad value', 'root: share\nlock-timeout-max: forever\n', /keepdav: .*bad\.yaml: lock-timeout-max needs a duration such as 90s, 12h or 30d or "infinite", not "forever"/],
  ['a boolean that is not true/false', 'root: share\naccess-log: sometimes\n', /keepdav: .*bad\.yaml: access-log needs true or false/],
  ['an idle timeout of 0', 'root: share\nidle-timeout: 0\n', /keepdav: .*bad\.yaml: idle-timeout needs more than 0, not 0/],
  ['a log level that is none', 'root: share\nlog-level: 5\n', /keepdav: .*bad\.yaml: log-level takes fatal, error, warn, info, debug, trace, silent, not 5/],
])('%s in the file is one clear message naming the key and the file, exit 2', async (_what, yaml, message) => {
  const file = join(base, 'bad.yaml');
  await writeFile(file, yaml);
  const r = await keepdav(['serve', '--config', file, '--port', '0']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).not.toMatch(/listening/);
});

it('a bad variable is named', async () => {
  const r = await keepdav(['serve', '--root', join(base, 'share'), '--port', '0'], { KEEPDAV_RETAIN_DAYS: 'a week' });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/KEEPDAV_RETAIN_DAYS needs a duration such as 90s, 12h or 30d, not "a week"/);
});

it.each([
  [{ KEEPDAV_PORT: '70000' }, /KEEPDAV_PORT needs a port from 0 to 65535, not "70000"/],
  [{ KEEPDAV_IDLE_TIMEOUT: '0' }, /KEEPDAV_IDLE_TIMEOUT needs more than 0, not "0"/],
  [{ KEEPDAV_MAX_XML_BODY: '0' }, /KEEPDAV_MAX_XML_BODY needs more than 0, not "0"/],
])('a value out of range in %p is named by its variable', async (env, message) => {
  const r = await keepdav(['serve', '--root', join(base, 'share')], env);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
});
