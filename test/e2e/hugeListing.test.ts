/**
 * Bounded listings (README "Protocol"): PROPFIND Depth 1 on a collection of 100,000 files is
 * streamed, so the server's peak resident memory stays under 150 MiB (VmHWM of the child process,
 * /proc/PID/status) and another client's GET is answered while the listing is still being sent.
 * The multistatus is checked whole: well-formed, one response per member, every name present.
 * The server runs compiled (dist/, as `npm install` builds it and as it is deployed): the
 * TypeScript compiler that bin/keepdav.js loads for a checkout with newer sources alone takes
 * ~130 MiB, which is no part of what a listing costs.
 */
import { closeSync, openSync, mkdirSync, existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { XMLValidator } from 'fast-xml-parser';
import { startChildServer, type ChildServer } from '../support/childServer';
import { MemoryWatch, MiB } from '../support/largeBody';

jest.setTimeout(600_000);

const MEMBERS = 100_000;
const PEAK_LIMIT = 150 * MiB;

let base: string;
let server: ChildServer;

const REPO = join(__dirname, '..', '..');

/** Builds dist/ unless it is at least as new as every source file (the rule bin/keepdav.js runs it by). */
function ensureCompiled(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  const compiled = join(REPO, 'dist', 'cli.js');
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newest(join(REPO, 'src'))) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, stdio: 'inherit' });
}

beforeAll(async () => {
  ensureCompiled();
  base = await mkdtemp(join(tmpdir(), 'keepdav-huge-'));
  const dir = join(base, 'root', 'big');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < MEMBERS; i++) closeSync(openSync(join(dir, `file-${String(i).padStart(6, '0')}.txt`), 'w'));
  closeSync(openSync(join(base, 'root', 'other.txt'), 'w'));
  server = await startChildServer(join(base, 'root'), join(base, 'state'), [], 120_000);
});

afterAll(async () => {
  await server?.kill9();
  await rm(base, { recursive: true, force: true });
});

/** Starts a PROPFIND Depth 1 of /big/ and resolves with the response as soon as its head arrives (the body is left paused). */
function startListing(): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method: 'PROPFIND', path: '/big/', headers: { Depth: '1', 'Content-Type': 'application/xml' } }, resolve);
    req.on('error', reject);
    req.end('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>');
  });
}

test('PROPFIND Depth 1 of 100,000 files: complete, well-formed, peak RSS under 150 MiB; a GET is answered meanwhile', async () => {
  const watch = new MemoryWatch(server.child.pid!);
  await watch.start();

  const res = await startListing();
  expect(res.statusCode).toBe(207);
  expect(res.headers['content-length']).toBeUndefined(); // streamed (chunked), not rendered whole first
  const chunks: Buffer[] = [];
  let ended = false;
  res.on('end', () => (ended = true));
  // Take the first piece only, then hold the rest back: the server is mid-listing.
  const firstChunk = await new Promise<Buffer>((resolve) => res.once('data', (c: Buffer) => { res.pause(); resolve(c); }));
  chunks.push(firstChunk);

  const get = await server.request('GET', '/other.txt');
  expect(get.status).toBe(200);
  expect(ended).toBe(false); // answered while the listing was still being sent

  const body = await new Promise<Buffer>((resolve, reject) => {
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.resume();
  });
  const memory = await watch.stop();
  process.stdout.write(`[hugeListing] ${(body.length / MiB).toFixed(1)} MiB of XML; server peak ${(memory.peak / MiB).toFixed(1)} MiB (${memory.method}), baseline ${(memory.baseline / MiB).toFixed(1)} MiB\n`);

  const xml = body.toString('utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(xml.trimEnd().endsWith('</D:multistatus>')).toBe(true);
  const hrefs = [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]);
  expect(hrefs.length).toBe(MEMBERS + 1);
  expect(hrefs[0]).toBe('/big/');
  const names = new Set(hrefs.slice(1));
  expect(names.size).toBe(MEMBERS);
  for (const i of [0, 1, 4242, 54321, MEMBERS - 1]) expect(names.has(`/big/file-${String(i).padStart(6, '0')}.txt`)).toBe(true);
  expect((xml.match(/<D:response>/g) ?? []).length).toBe(MEMBERS + 1);
  expect(xml).not.toContain('500 Internal Server Error');

  expect(memory.peak).toBeLessThan(PEAK_LIMIT);
});

test('the HTML index of the same collection streams too: every member listed once', async () => {
  const watch = new MemoryWatch(server.child.pid!);
  await watch.start();
  const res = await server.request('GET', '/big/');
  const memory = await watch.stop();
  expect(res.status).toBe(200);
  expect(res.headers['content-length']).toBeUndefined();
  expect(res.text.endsWith('</table></body></html>\n')).toBe(true);
  expect((res.text.match(/<tr><td><a href="\/big\/file-/g) ?? []).length).toBe(MEMBERS);
  expect(memory.peak).toBeLessThan(PEAK_LIMIT);
});
