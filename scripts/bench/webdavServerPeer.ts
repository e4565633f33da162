/**
 * The benchmark's peer: webdav-server 2.6.3 (devDependency) serving a directory, no auth.
 *
 * Usage:
 *   node -r ts-node/register/transpile-only scripts/bench/webdavServerPeer.ts \
 *     --root DIR [--port 0] [--host 127.0.0.1] [--state DIR]
 *
 * When ready it prints one stdout line `listening http://HOST:PORT/`, like keepdav.
 * `--state` is accepted and ignored so the same argument list fits both servers.
 * webdav-server is known to throw from inside request handlers (an untagged `If: (<token>)`
 * kills it); the uncaughtException guard logs `uncaughtException: ...` to stderr instead of
 * dying, so the bench can count such events and report them.
 */
import { v2 as webdav } from 'webdav-server';

interface PeerOptions {
  root: string;
  port: number;
  host: string;
}

function parsePeerOptions(argv: string[]): PeerOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else values.set(arg.slice(2), argv[++i] ?? '');
  }
  const root = values.get('root');
  if (!root) throw new Error('--root DIR is required');
  const port = Number(values.get('port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  return { root, port, host: values.get('host') ?? '127.0.0.1' };
}

function installCrashGuard(): void {
  process.on('uncaughtException', (error: Error) => {
    process.stderr.write(`uncaughtException: ${error?.stack ?? String(error)}\n`);
  });
  process.on('unhandledRejection', (reason: unknown) => {
    process.stderr.write(`unhandledRejection: ${String(reason)}\n`);
  });
}

function main(): void {
  const options = parsePeerOptions(process.argv.slice(2));
  installCrashGuard();
  const server = new webdav.WebDAVServer({ port: options.port, hostname: options.host });
  server.setFileSystem('/', new webdav.PhysicalFileSystem(options.root), (ok?: boolean) => {
    if (!ok) {
      process.stderr.write('webdav-server refused the file system\n');
      process.exit(1);
    }
    server.start((httpServer) => {
      const address = httpServer?.address();
      if (!address || typeof address === 'string') {
        process.stderr.write('webdav-server did not report a TCP address\n');
        process.exit(1);
      }
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      process.stdout.write(`listening http://${host}:${address.port}/\n`);
    });
  });
  // server.stop() would wait for idle keep-alive sockets; a benchmark peer just leaves.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main();
