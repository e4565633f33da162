/**
 * lighttpd with mod_webdav (Debian packages `lighttpd` and `lighttpd-mod-webdav`), locks and
 * properties in its SQLite file. Skipped by the bench when either is missing.
 *
 * Usage:
 *   const missing = lighttpdUnavailable();                  // null, or why it cannot run
 *   const command = await lighttpdCommand({ root, state });
 *
 * Writes `{state}/lighttpd.conf`: one process (lighttpd's default), uploads staged in
 * `{state}/upload`, error log in `{state}`; as root it runs as www-data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chownTree, lookupUser, pickFreePort, RUN_AS } from './apacheServer';
import type { ServerCommand, ServerDirs } from './serverCommands';

const BINARY = '/usr/sbin/lighttpd';
const MODULES = '/usr/lib/lighttpd';

export function lighttpdUnavailable(): string | null {
  if (!fs.existsSync(BINARY)) return 'lighttpd not installed (Debian: apt-get install lighttpd)';
  if (!fs.existsSync(path.join(MODULES, 'mod_webdav.so'))) return 'mod_webdav not installed (Debian: apt-get install lighttpd-mod-webdav)';
  return null;
}

function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function lighttpdCommand(dirs: ServerDirs): Promise<ServerCommand> {
  const state = (name: string): string => path.join(dirs.state, name);
  fs.mkdirSync(state('upload'), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = lookupUser(RUN_AS);
    chownTree(path.dirname(dirs.root), uid, gid);
  }
  const port = await pickFreePort();
  const config = [
    `server.document-root = ${quoted(dirs.root)}`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    'server.modules = ( "mod_webdav" )',
    `server.errorlog = ${quoted(state('error.log'))}`,
    `server.upload-dirs = ( ${quoted(state('upload'))} )`,
    'server.max-keep-alive-requests = 1000000',
    ...(asRoot ? [`server.username = "${RUN_AS}"`, `server.groupname = "${RUN_AS}"`] : []),
    'mimetype.assign = ( "" => "application/octet-stream" )',
    'webdav.activate = "enable"',
    'webdav.is-readonly = "disable"',
    `webdav.sqlite-db-name = ${quoted(state('webdav.db'))}`,
    '',
  ].join('\n');
  fs.writeFileSync(state('lighttpd.conf'), config);
  if (asRoot) {
    const { uid, gid } = lookupUser(RUN_AS);
    chownTree(dirs.state, uid, gid);
  }
  return {
    name: 'lighttpd',
    label: 'lighttpd mod_webdav',
    executable: BINARY,
    args: ['-D', '-f', state('lighttpd.conf'), '-m', MODULES],
    cwd: dirs.state,
    readyUrl: new URL(`http://127.0.0.1:${port}/`),
    logFile: state('error.log'),
  };
}
