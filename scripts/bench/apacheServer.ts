/**
 * The optional third server: Apache httpd with mod_dav_fs (Debian package `apache2`), the C
 * server used as the bar. Not installed by CI; when it is missing the bench skips it.
 *
 * Usage:
 *   const missing = apacheUnavailable(process.env);          // null, or why it cannot run
 *   const command = await apacheCommand({ root, state }, process.env);
 *
 * The bench writes `{state}/httpd.conf` (ServerRoot, PidFile, error.log and DavLockDB all in
 * `{state}`), picks a free port on 127.0.0.1 and runs `apache2 -f {state}/httpd.conf -DFOREGROUND`
 * in its own process group: the root-owned parent plus the 2 children of the event MPM (64
 * threads each, never more processes, so 64 concurrent connections always find a worker; with
 * 2 x 32 the kernel's uneven spread made a busy child close keep-alive connections: ECONNRESET).
 * Apache prints no URL, so readiness is an HTTP answer on the port.
 * Known limit: Debian builds apr-util with Berkeley DB as the default DBM, and mod_dav_fs 2.4
 * opens its DavLockDB through it without locking (DavLockDBType only exists from 2.5.1), so
 * concurrent LOCK/UNLOCK corrupt the lock database (500 "DB_RUNRECOVERY" in error.log). As root, children run as www-data and the
 * whole temp dir is chowned to it; as another user no User/Group lines are written.
 *   BENCH_APACHE_BIN      the httpd binary (default: apache2 on PATH, then /usr/sbin/apache2)
 *   BENCH_APACHE_MODULES  the modules directory (default: /usr/lib/apache2/modules and kin)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ServerCommand, ServerDirs } from './serverCommands';

const BINARY_CANDIDATES = ['/usr/sbin/apache2', '/usr/sbin/httpd', '/usr/local/apache2/bin/httpd'];
const MODULE_DIR_CANDIDATES = [
  '/usr/lib/apache2/modules',
  '/usr/lib64/httpd/modules',
  '/usr/lib/httpd/modules',
  '/usr/local/apache2/modules',
];
/** mpm, access control, the DAV provider and MIME types: nothing else is loaded. */
const MODULES: Array<[string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['mime_module', 'mod_mime.so'],
  ['dav_module', 'mod_dav.so'],
  ['dav_fs_module', 'mod_dav_fs.so'],
];
export const RUN_AS = 'www-data';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findBinary(env: NodeJS.ProcessEnv): string | null {
  if (env.BENCH_APACHE_BIN) return isExecutable(env.BENCH_APACHE_BIN) ? env.BENCH_APACHE_BIN : null;
  const onPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'apache2'));
  return [...onPath, ...BINARY_CANDIDATES].find(isExecutable) ?? null;
}

function findModules(env: NodeJS.ProcessEnv): string | null {
  const dirs = env.BENCH_APACHE_MODULES ? [env.BENCH_APACHE_MODULES] : MODULE_DIR_CANDIDATES;
  return dirs.find((dir) => MODULES.every(([, file]) => fs.existsSync(path.join(dir, file)))) ?? null;
}

/** Why apache cannot be benchmarked here, or null when it can. */
export function apacheUnavailable(env: NodeJS.ProcessEnv): string | null {
  if (!findBinary(env)) {
    return env.BENCH_APACHE_BIN
      ? `BENCH_APACHE_BIN=${env.BENCH_APACHE_BIN} is not an executable`
      : 'apache2 not installed (no apache2 on PATH, no /usr/sbin/apache2; Debian: apt-get install apache2)';
  }
  if (!findModules(env)) return `no modules directory with ${MODULES.map(([, f]) => f).join(', ')}`;
  return null;
}

function apacheVersion(binary: string): string {
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  const match = /Apache\/([\d.]+)/.exec(out);
  return match ? match[1] : '?';
}

/** A port that was free a moment ago on 127.0.0.1 (apache refuses to start if it is taken since). */
export function pickFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function apacheConfig(dirs: ServerDirs, modulesDir: string, port: number, runAs: string | null): string {
  const state = (name: string): string => quoted(path.join(dirs.state, name));
  return [
    '# Written by scripts/bench/apacheServer.ts for one bench run.',
    `ServerRoot ${quoted(dirs.state)}`,
    `DefaultRuntimeDir ${quoted(dirs.state)}`,
    `PidFile ${state('httpd.pid')}`,
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    ...MODULES.map(([name, file]) => `LoadModule ${name} ${quoted(path.join(modulesDir, file))}`),
    ...(runAs ? [`User ${runAs}`, `Group ${runAs}`] : []),
    '',
    '# event MPM: 2 children x 64 threads, fixed (no process churn during rows); either child alone',
    '# has a worker for each of the 64 connections, however the kernel spreads them.',
    'StartServers 2',
    'ServerLimit 2',
    'ThreadLimit 64',
    'ThreadsPerChild 64',
    'MaxRequestWorkers 128',
    'MinSpareThreads 64',
    'MaxSpareThreads 128',
    'MaxConnectionsPerChild 0',
    '',
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    'LimitRequestBody 0',
    `ErrorLog ${state('error.log')}`,
    'LogLevel warn',
    'TypesConfig /etc/mime.types',
    `DavLockDB ${state('DavLock')}`,
    '',
    `DocumentRoot ${quoted(dirs.root)}`,
    '<Directory />',
    '  AllowOverride None',
    '  Require all denied',
    '</Directory>',
    `<Directory ${quoted(dirs.root)}>`,
    '  Dav On',
    '  Options None',
    '  AllowOverride None',
    '  Require all granted',
    '</Directory>',
    '',
  ].join('\n');
}

/** `chown -R` in-process (the tree is a few thousand entries). */
export function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, uid, gid);
    else fs.chownSync(full, uid, gid);
  }
}

export function lookupUser(name: string): { uid: number; gid: number } {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error(`user ${name} not found in /etc/passwd (apache children run as it)`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export async function apacheCommand(dirs: ServerDirs, env: NodeJS.ProcessEnv): Promise<ServerCommand> {
  const binary = findBinary(env);
  const modulesDir = findModules(env);
  if (!binary || !modulesDir) throw new Error(apacheUnavailable(env) ?? 'apache not found');
  const runAsRoot = process.getuid?.() === 0;
  if (runAsRoot) {
    // The temp dir holding root/ and state/ (mode 0700 from mkdtemp) must be usable by the children.
    const { uid, gid } = lookupUser(RUN_AS);
    chownTree(path.dirname(dirs.root), uid, gid);
  }
  const port = await pickFreePort();
  const configFile = path.join(dirs.state, 'httpd.conf');
  fs.writeFileSync(configFile, apacheConfig(dirs, modulesDir, port, runAsRoot ? RUN_AS : null));
  return {
    name: 'apache',
    label: `Apache httpd ${apacheVersion(binary)} mod_dav_fs`,
    executable: binary,
    args: ['-f', configFile, '-DFOREGROUND'],
    cwd: dirs.state,
    readyUrl: new URL(`http://127.0.0.1:${port}/`),
    processGroup: true,
    logFile: path.join(dirs.state, 'error.log'),
  };
}
