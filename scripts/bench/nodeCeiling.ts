/**
 * The ceiling of Node.js on this machine: a plain node:http server doing the least work each row
 * needs, and nothing else (no containment, no state, no log, no locks):
 *   GET       one blocking stat and one blocking read of the file under --root;
 *   PROPFIND  Depth 1: one directory read and one blocking lstat per member, the four properties
 *             the bench asks for written into one string;
 *   PUT       a durable replacement as keepdav makes it, with keepdav's own descriptor calls
 *             (storage/fileDescriptorCalls.ts: what needs no disk and no directory lock made inline):
 *             the body into a new temporary file, its fsync, the rename over the target, the new
 *             file's fstat, and an fsync of the directory (concurrent ones grouped, as keepdav
 *             groups them). A small body is gathered first; a large one streams into the
 *             temporary as it arrives (at most 1 MiB waiting, an fdatasync started every 32 MiB, as
 *             keepdav's streaming path does), with no hashing (keepdav hashes a large body on
 *             the way in only for a checksum its client claims, which the bench's curl does not).
 * keepdav cannot beat it; the bench shows it beside keepdav so the gap to Apache can be split into
 * "the runtime" and "keepdav's own work".
 *
 * Usage: node -r ts-node/register/transpile-only scripts/bench/nodeCeiling.ts --root DIR   (prints
 * `listening http://127.0.0.1:PORT/`). The bench runs it as JavaScript over dist/ (compiledScript.ts).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// keepdav's own group commit of directory fsyncs and descriptor calls, so the ceiling writes exactly as keepdav does.
import { SINK_HIGH_WATER_MARK, fsyncDirectory } from '../../src/storage/atomicWrite';
import { EarlyFlushes } from '../../src/storage/earlyFlushes';
import { SMALL_BODY_MAX } from '../../src/storage/smallBodyWrite';
import {
  closeDescriptor, openDescriptor, statDescriptor, syncDescriptor, writeAllToDescriptor,
} from '../../src/storage/fileDescriptorCalls';

const rootIndex = process.argv.indexOf('--root');
const root = rootIndex > 0 ? process.argv[rootIndex + 1] : null;
if (!root) {
  process.stderr.write('--root DIR is required\n');
  process.exit(2);
}
const servedRoot: string = root;

function get(urlPath: string, res: http.ServerResponse): void {
  const file = path.join(servedRoot, urlPath);
  try {
    const stat = fs.statSync(file);
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': body.length, 'Last-Modified': stat.mtime.toUTCString() });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
}

function propertiesOf(href: string, stat: fs.Stats): string {
  const size = stat.isDirectory() ? '' : `<D:getcontentlength>${stat.size}</D:getcontentlength>`;
  const type = stat.isDirectory() ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>';
  const etag = `<D:getetag>"${stat.ino.toString(36)}-${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}"</D:getetag>`;
  return `<D:response><D:href>${href}</D:href><D:propstat><D:prop>${size}<D:getlastmodified>${stat.mtime.toUTCString()}</D:getlastmodified>${type}${etag}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
}

function propfind(urlPath: string, res: http.ServerResponse): void {
  const dir = path.join(servedRoot, urlPath);
  try {
    const base = urlPath.endsWith('/') ? urlPath : urlPath + '/';
    let body = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">' + propertiesOf(encodeURI(base), fs.lstatSync(dir));
    for (const name of fs.readdirSync(dir)) body += propertiesOf(encodeURI(base + name), fs.lstatSync(path.join(dir, name)));
    body += '</D:multistatus>';
    res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
}

let temporaries = 0;

/**
 * A Writable over the open `fd`, as keepdav's streaming path writes (atomicWrite.ts): the chunks
 * that waited written together, with keepdav's own early flushes (earlyFlushes.ts) while the body
 * goes on arriving; the last is waited for at the end.
 */
function descriptorSink(fd: number): Writable {
  const flushes = new EarlyFlushes(fd);
  return new Writable({
    highWaterMark: SINK_HIGH_WATER_MARK,
    writev(entries, done) {
      const chunks = entries.map((entry) => entry.chunk as Buffer);
      writeAllToDescriptor(fd, chunks).then(() => {
        flushes.written(chunks.reduce((bytes, chunk) => bytes + chunk.length, 0));
        done();
      }, done);
    },
    final(done) {
      flushes.settled().then(() => done(), done);
    },
  });
}

async function put(urlPath: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const target = path.join(servedRoot, urlPath);
  const dir = path.dirname(target);
  const temporary = path.join(dir, `.ceiling-${process.pid}-${++temporaries}`);
  const length = Number(req.headers['content-length'] ?? NaN);
  // keepdav's own bounds: a body up to SMALL_BODY_MAX is gathered, a longer one streams.
  const gathered = length <= SMALL_BODY_MAX ? await gatherBody(req) : null;
  try {
    const fd = await openDescriptor(temporary, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o666);
    try {
      if (gathered) await writeAllToDescriptor(fd, [gathered]);
      else await pipeline(req, descriptorSink(fd));
      await syncDescriptor(fd);
      await fsp.rename(temporary, target);
      await statDescriptor(fd);
    } finally {
      await closeDescriptor(fd);
    }
    await fsyncDirectory(dir);
    res.writeHead(201, { 'Content-Length': 0 });
  } catch {
    await fsp.unlink(temporary).catch(() => undefined);
    res.writeHead(500, { 'Content-Length': 0, Connection: 'close' });
  }
  res.end();
}

function gatherBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const server = http.createServer((req, res) => {
  const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]);
  if (req.method === 'PUT') {
    void put(urlPath, req, res);
    return;
  }
  req.resume();
  if (req.method === 'PROPFIND') req.on('end', () => propfind(urlPath, res));
  else get(urlPath, res);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${address.port}/\n`);
});
process.on('SIGTERM', () => process.exit(0));
