/**
 * nginx with its built-in dav module and dav-ext (Debian packages `nginx` and
 * `libnginx-mod-http-dav-ext`): PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, OPTIONS, LOCK, UNLOCK.
 * Skipped by the bench when either is missing.
 *
 * Usage:
 *   const missing = nginxUnavailable();                     // null, or why it cannot run
 *   const command = await nginxCommand({ root, state });
 *
 * Writes `{state}/nginx.conf` (pid, error log, temp paths all in `{state}`), 2 worker processes
 * (one per core, like Apache's 2 children), no access log, run in its own process group; as root
 * the workers run as www-data (apacheServer.ts chowns the data). nginx syncs nothing on PUT.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chownTree, lookupUser, pickFreePort, RUN_AS } from './apacheServer';
import type { ServerCommand, ServerDirs } from './serverCommands';

const BINARY = '/usr/sbin/nginx';
const DAV_EXT = '/usr/lib/nginx/modules/ngx_http_dav_ext_module.so';

export function nginxUnavailable(): string | null {
  if (!fs.existsSync(BINARY)) return 'nginx not installed (Debian: apt-get install nginx)';
  if (!fs.existsSync(DAV_EXT)) return 'nginx dav-ext not installed (Debian: apt-get install libnginx-mod-http-dav-ext)';
  return null;
}

export async function nginxCommand(dirs: ServerDirs): Promise<ServerCommand> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = lookupUser(RUN_AS);
    chownTree(path.dirname(dirs.root), uid, gid);
  }
  const port = await pickFreePort();
  const state = (name: string): string => path.join(dirs.state, name);
  const config = [
    'daemon off;',
    'master_process on;',
    'worker_processes 2;',
    `pid ${state('nginx.pid')};`,
    `error_log ${state('error.log')} warn;`,
    `load_module ${DAV_EXT};`,
    ...(asRoot ? [`user ${RUN_AS} ${RUN_AS};`] : []),
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  default_type application/octet-stream;',
    '  sendfile on;',
    '  keepalive_requests 1000000;',
    '  client_max_body_size 0;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${state(`${t}_temp`)};`),
    '  dav_ext_lock_zone zone=bench:10m;',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    root ${dirs.root};`,
    '    location / {',
    '      dav_methods PUT DELETE MKCOL COPY MOVE;',
    '      dav_ext_methods PROPFIND OPTIONS LOCK UNLOCK;',
    '      dav_ext_lock zone=bench;',
    '      create_full_put_path on;',
    '      dav_access user:rw group:rw all:r;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
  fs.writeFileSync(state('nginx.conf'), config);
  return {
    name: 'nginx',
    label: 'nginx + dav-ext',
    executable: BINARY,
    args: ['-c', state('nginx.conf'), '-p', dirs.state, '-e', state('error.log')],
    cwd: dirs.state,
    readyUrl: new URL(`http://127.0.0.1:${port}/`),
    processGroup: true,
    logFile: state('error.log'),
  };
}
