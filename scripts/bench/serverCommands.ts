/**
 * The command lines that start each benchmarked server as a child process.
 *
 * Usage: `const command = serverCommand('keepdav', { root, state }, process.env);`
 *
 * keepdav: `node --max-semi-space-size=4 --heap-growing-percent=50 --expose-gc bin/keepdav.js serve --root {root} --state {state} --port 0 --host 127.0.0.1
 * --users {users} --anonymous write --log-file {state}/keepdav.log` (users for the signed-in row,
 * anonymous for the others; the log, access lines included, goes to a file as in production, not
 * through a pipe the bench would have to read),
 * or any command given in BENCH_KEEPDAV_CMD (split on whitespace; `{root}`, `{state}` and
 * `{users}` are replaced). The command must print a stdout line containing `listening` and its http URL.
 * To try keepdav's code path against the peer, for instance:
 *   BENCH_KEEPDAV_CMD="node -r ts-node/register/transpile-only scripts/bench/webdavServerPeer.ts --root {root}"
 * Peak RSS is read from the spawned pid: point BENCH_KEEPDAV_CMD at the server process itself,
 * not at a wrapper (npm, sh) that forks it.
 * apache, nginx, lighttpd: see apacheServer.ts, nginxServer.ts, lighttpdServer.ts; check
 * serverUnavailable() first, a server that is not installed is skipped, not an error.
 */
import * as path from 'node:path';
import { apacheCommand, apacheUnavailable } from './apacheServer';
import { compiledScript } from './compiledScript';
import { lighttpdCommand, lighttpdUnavailable } from './lighttpdServer';
import { nginxCommand, nginxUnavailable } from './nginxServer';
import { postgresUnavailable } from './postgresServer';
import type { ServerName } from './options';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface ServerCommand {
  name: ServerName;
  /** What the report calls this server. */
  label: string;
  executable: string;
  args: string[];
  cwd: string;
  /** Ready once this URL answers over HTTP (for servers that print no `listening <url>` line). */
  readyUrl?: URL;
  /** Runs in its own process group (a forking server): stopped and RSS-measured as a group. */
  processGroup?: boolean;
  /** The server's own error log, whose tail and error lines end up in the report. */
  logFile?: string;
  /** Environment variables the server is started with, besides the bench's own. */
  env?: Record<string, string>;
}

/**
 * What keepdav's own launchers set (bin/malloc-arenas.js: the command on Node.js 22.15 and later,
 * `npm start`, the systemd unit, the Dockerfile), also on an older Node.js that runs it here.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KEEPDAV_ENV = { MALLOC_ARENA_MAX: (require(path.join(REPO_ROOT, 'bin', 'malloc-arenas.js')) as { ARENAS: string }).ARENAS };

export interface ServerDirs {
  root: string;
  state: string;
  /** The htpasswd file for keepdav's signed-in row. */
  users?: string;
  /** keepdav-pg: the postgres:// URL of the bench's own cluster (`{stateUrl}` in the template). */
  stateUrl?: string;
}

/** keepdav as bin/keepdav.js's shebang starts it (the same node flags). */
export const KEEPDAV_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=50', '--expose-gc'];
export const KEEPDAV_SERVE = `node ${KEEPDAV_NODE_FLAGS.join(' ')} bin/keepdav.js serve`;
const KEEPDAV_REST = '--port 0 --host 127.0.0.1 --users {users} --anonymous write --log-file {state}/keepdav.log';

/** keepdav-pg: the same, its state in PostgreSQL; `--state-dir` keeps the retained bytes beside the root. */
export const DEFAULT_KEEPDAV_PG_CMD = `${KEEPDAV_SERVE} --root {root} --state {stateUrl} --state-dir {state} ${KEEPDAV_REST}`;

export const DEFAULT_KEEPDAV_CMD = `${KEEPDAV_SERVE} --root {root} --state {state} ${KEEPDAV_REST}`;

function fromTemplate(template: string, dirs: ServerDirs): string[] {
  const words = template.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) throw new Error('empty server command');
  return words.map((w) => w.replace(/\{root\}/g, dirs.root).replace(/\{state\}/g, dirs.state).replace(/\{users\}/g, dirs.users ?? '').replace(/\{stateUrl\}/g, dirs.stateUrl ?? ''));
}

function keepdavCommand(dirs: ServerDirs, template: string, name: 'keepdav' | 'keepdav-pg' | 'baseline'): ServerCommand {
  const [first, ...rest] = fromTemplate(template, dirs);
  // `node` means this very Node binary, so both servers run on the same runtime.
  const executable = first === 'node' ? process.execPath : first;
  const label = name === 'baseline' ? 'keepdav baseline (BENCH_BASELINE_CMD)' : name === 'keepdav-pg' ? 'keepdav, state in PostgreSQL 15 (loopback TCP, fsync on)' : 'keepdav';
  // A baseline command sets its own environment (`env NAME=VALUE node ...`), so an A/B can compare them.
  return { name, label, executable, args: rest, cwd: REPO_ROOT, env: name === 'baseline' ? undefined : KEEPDAV_ENV };
}

function peerCommand(dirs: ServerDirs): ServerCommand {
  return {
    name: 'peer',
    label: 'webdav-server 2.6.3',
    executable: process.execPath,
    args: [
      compiledScript(path.join(__dirname, 'webdavServerPeer.ts'), REPO_ROOT),
      '--root',
      dirs.root,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    cwd: REPO_ROOT,
  };
}

/** Why this server cannot run on this machine (then it is skipped), or null. */
export function serverUnavailable(name: ServerName, env: NodeJS.ProcessEnv): string | null {
  if (name === 'apache') return apacheUnavailable(env);
  if (name === 'nginx') return nginxUnavailable();
  if (name === 'lighttpd') return lighttpdUnavailable();
  if (name === 'keepdav-pg') return postgresUnavailable();
  if (name === 'baseline') return env.BENCH_BASELINE_CMD ? null : 'BENCH_BASELINE_CMD is not set';
  return null;
}

/** The command template of a keepdav server (keepdav, keepdav-pg, baseline) as the environment sets it; null for the others. */
function keepdavTemplate(name: ServerName, env: NodeJS.ProcessEnv): string | null {
  switch (name) {
    case 'keepdav':
      return env.BENCH_KEEPDAV_CMD || DEFAULT_KEEPDAV_CMD;
    case 'keepdav-pg':
      return env.BENCH_KEEPDAV_PG_CMD || DEFAULT_KEEPDAV_PG_CMD;
    case 'baseline':
      return env.BENCH_BASELINE_CMD ?? '';
    default:
      return null;
  }
}

/** Whether `name`'s command names `{stateUrl}`: the bench then starts a PostgreSQL cluster of its own for it. */
export function needsPostgres(name: ServerName, env: NodeJS.ProcessEnv): boolean {
  return keepdavTemplate(name, env)?.includes('{stateUrl}') ?? false;
}

/** The command for `name` over these dirs (apache: also writes its config and picks its port). */
export async function serverCommand(name: ServerName, dirs: ServerDirs, env: NodeJS.ProcessEnv): Promise<ServerCommand> {
  switch (name) {
    case 'keepdav':
    case 'keepdav-pg':
    case 'baseline':
      return keepdavCommand(dirs, keepdavTemplate(name, env)!, name);
    case 'peer':
      return peerCommand(dirs);
    case 'ceiling':
      return {
        name,
        label: 'node:http doing only what each row needs (the ceiling: scripts/bench/nodeCeiling.ts)',
        executable: process.execPath,
        // keepdav's V8 flags (KEEPDAV_SERVE) and malloc arenas, so the memory columns compare servers, not settings.
        args: [...KEEPDAV_NODE_FLAGS, compiledScript(path.join(__dirname, 'nodeCeiling.ts'), REPO_ROOT), '--root', dirs.root],
        cwd: REPO_ROOT,
        env: KEEPDAV_ENV,
      };
    case 'apache':
      return apacheCommand(dirs, env);
    case 'nginx':
      return nginxCommand(dirs);
    case 'lighttpd':
      return lighttpdCommand(dirs);
  }
}

/** The command as a short, readable line (paths inside the repo shown relative to it). */
export function describeCommand(command: ServerCommand): string {
  const shorten = (word: string): string =>
    path.isAbsolute(word) && word.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, word) : word;
  const exe = command.executable === process.execPath ? 'node' : command.executable;
  return [exe, ...command.args.map(shorten)].join(' ');
}
