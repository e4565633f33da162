/**
 * The ceiling of Node.js on this machine for the small-GET row: a plain node:http server that
 * answers GET with one blocking stat and one blocking read of the file under --root, and nothing
 * else (no containment, no ETag, no log). keepdav cannot beat it; the bench shows it beside
 * keepdav so the gap to Apache can be split into "the runtime" and "keepdav's own work".
 *
 * Usage: node scripts/bench/nodeCeiling.ts --root DIR   (prints `listening http://127.0.0.1:PORT/`)
 * Only the get-4k rows run against it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const rootIndex = process.argv.indexOf('--root');
const root = rootIndex > 0 ? process.argv[rootIndex + 1] : null;
if (!root) {
  process.stderr.write('--root DIR is required\n');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const file = path.join(root, decodeURIComponent((req.url ?? '/').split('?')[0]));
  try {
    const stat = fs.statSync(file);
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': body.length, 'Last-Modified': stat.mtime.toUTCString() });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${address.port}/\n`);
});
process.on('SIGTERM', () => process.exit(0));
