/**
 * Crash safety (semantics.md "Nothing is lost": atomic writes; architecture: the journal that keeps
 * metadata consistent across a crash). keepdav runs as a child process and is killed with
 * SIGKILL in the middle of (1) a large PUT over an existing file and (2) a MOVE of a collection
 * tree carrying dead properties; after a restart over the same root and state the old file is
 * byte-identical, no temp file is visible, and a moved tree is whole at exactly one place with its
 * dead properties.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { startChildServer, type ChildServer } from '../support/childServer';
import { hdr, propOf } from '../support/conflictKit';
import { DAV, findAll, text } from '../support/xmlQuery';
import { uploadTemporaries } from '../support/uploadTemporaries';

jest.setTimeout(240_000);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PROP_NS = 'urn:example:crash';

let base: string;
let root: string;
let state: string;
let server: ChildServer | undefined;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-crash-'));
  root = join(base, 'root');
  state = join(base, 'state');
  await (await import('node:fs/promises')).mkdir(root);
});

afterAll(async () => {
  if (server) await server.kill9();
  await rm(base, { recursive: true, force: true });
});

async function restart(): Promise<ChildServer> {
  if (server) await server.kill9();
  server = await startChildServer(root, state);
  return server;
}

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE(((i + seed) * 2246822519) >>> 0, i);
  return b;
}

/**
 * Starts a PUT declaring `total` bytes and streams the body: fast (as fast as the socket takes it)
 * or slow (256 KiB every 20 ms). Resolves once `killAfterBytes` bytes were handed to the socket
 * or `killAfterMs` passed, whichever comes first; the caller then kills the server.
 */
function startHugePut(port: number, path: string, total: number, mode: 'fast' | 'slow', killAfterBytes: number, killAfterMs: number): Promise<{ sent: number; finished: Promise<string> }> {
  return new Promise((resolveStarted) => {
    let sent = 0;
    let stopped = false;
    let resolveFinished!: (s: string) => void;
    const finished = new Promise<string>((r) => (resolveFinished = r));
    const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path, headers: { 'Content-Length': total } }, (res) => {
      res.resume();
      res.on('end', () => resolveFinished(`answered ${res.statusCode}`));
      res.on('error', (e) => resolveFinished(`response error ${e.message}`));
    });
    req.on('error', (e) => resolveFinished(`request error ${e.message}`));
    const chunk = pattern(mode === 'fast' ? 1 << 20 : 256 << 10, 99);
    const startedAt = Date.now();
    const ready = () => {
      if (!stopped) {
        stopped = true;
        resolveStarted({ sent, finished });
      }
    };
    const pump = () => {
      while (!stopped) {
        if (sent >= killAfterBytes || Date.now() - startedAt >= killAfterMs) return ready();
        const ok = req.write(chunk);
        sent += chunk.length;
        if (mode === 'slow') {
          setTimeout(pump, 20);
          return;
        }
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

async function propfindDepth1(s: ChildServer, path: string): Promise<string[]> {
  const res = await s.request('PROPFIND', path, {
    headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' },
    body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>',
  });
  expect(res.status).toBe(207);
  return findAll(res.xml(), DAV, 'response').map((r) => decodeURIComponent(text(r, DAV, 'href') ?? ''));
}

describe('SIGKILL during a large PUT over an existing file', () => {
  const old = pattern(1024 * 1024, 7);
  let oldEtag: string | undefined;

  for (const mode of ['fast', 'slow'] as const) {
    it(`(${mode} upload) leaves the old 1 MiB content byte-identical, no visible temp file, PROPFIND working`, async () => {
      const s = await restart();
      if (oldEtag === undefined) {
        const put = await s.request('PUT', '/data/file.bin', { body: old });
        if (put.status === 409) {
          expect((await s.request('MKCOL', '/data')).status).toBe(201);
          expect((await s.request('PUT', '/data/file.bin', { body: old })).status).toBe(201);
        }
        oldEtag = hdr(await s.request('HEAD', '/data/file.bin'), 'etag');
      }
      expect(oldEtag).toMatch(/^"[^"]+"$/);

      const total = 300 * 1024 * 1024;
      const { finished } = await startHugePut(s.port, '/data/file.bin', total, mode, mode === 'fast' ? 96 << 20 : total, mode === 'fast' ? 20_000 : 1500);
      // the upload is under way: its temp file exists on disk (in the uploads directory, or next to the target)
      expect((await uploadTemporaries({ root, stateDir: state }, 'data')).length).toBeGreaterThan(0);
      await s.kill9();
      await finished;

      const again = await restart();
      const get = await again.request('GET', '/data/file.bin');
      expect(get.status).toBe(200);
      expect(get.body.length).toBe(old.length);
      expect(sha(get.body)).toBe(sha(old));
      expect((await readFile(join(root, 'data', 'file.bin'))).equals(old)).toBe(true);
      // the version is the same as before the crash
      expect(hdr(get, 'etag')).toBe(oldEtag);
      expect((await propOf(asTestServer(again), '/data/file.bin', DAV, 'getetag')).value).toBe(oldEtag);

      const hrefs = await propfindDepth1(again, '/data/');
      expect(hrefs.filter((h) => h.includes('.keepdav-'))).toEqual([]);
      expect(hrefs.sort()).toEqual(['/data/', '/data/file.bin']);
      const rootHrefs = await propfindDepth1(again, '/');
      expect(rootHrefs.filter((h) => h.includes('.keepdav-'))).toEqual([]);
      // the leftover temp file (if the server keeps it) is not reachable either
      for (const name of (await readdir(join(root, 'data'))).filter((n) => n.startsWith('.keepdav-'))) {
        const r = await again.request('GET', `/data/${name}`);
        expect(r.status).not.toBe(200);
      }
      // the server is fully usable: a new PUT replaces the file
      const put = await again.request('PUT', '/data/file.bin', { body: 'after the crash' });
      expect(put.status).toBe(204);
      expect((await again.request('GET', '/data/file.bin')).text).toBe('after the crash');
      expect((await again.request('PUT', '/data/file.bin', { body: old })).status).toBe(204);
      oldEtag = hdr(await again.request('HEAD', '/data/file.bin'), 'etag');
    });
  }

  it('an interrupted overwrite leaves no phantom retained version', async () => {
    const s = await restart();
    expect((await s.request('PUT', '/phantom.bin', { body: old })).status).toBe(201);
    const before = (JSON.parse((await s.request('GET', '/phantom.bin?versions')).text) as { versions: unknown[] }).versions.length;
    const { finished } = await startHugePut(s.port, '/phantom.bin', 64 << 20, 'fast', 16 << 20, 10_000);
    await s.kill9();
    await finished;
    const again = await restart();
    expect((await again.request('GET', '/phantom.bin')).body.equals(old)).toBe(true);
    const after = (JSON.parse((await again.request('GET', '/phantom.bin?versions')).text) as { versions: Array<{ reason: string }> }).versions;
    expect(after.length).toBe(before);
  });

  it('temporaries a crash left (even fresh ones) are gone once the restarted server listens', async () => {
    const s = await restart();
    const { finished } = await startHugePut(s.port, '/data/file.bin', 64 << 20, 'fast', 8 << 20, 10_000);
    await s.kill9();
    await finished;
    // one more, written just now: with a single owner of the state no upload can still own it
    await writeFile(join(root, 'data', '.keepdav-tmp-planted'), 'left by a crash');
    await writeFile(join(state, 'uploads', '.keepdav-tmp-planted'), 'left by a crash');
    await restart();
    const temporaries = async (dir: string): Promise<string[]> => {
      const found: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.name.startsWith('.keepdav-tmp-')) found.push(join(dir, e.name));
        else if (e.isDirectory()) found.push(...(await temporaries(join(dir, e.name))));
      }
      return found;
    };
    expect(await temporaries(root)).toEqual([]);
    expect(await temporaries(join(state, 'uploads'))).toEqual([]);
  });
});

describe('SIGKILL right after a MOVE of a collection tree with dead properties', () => {
  const FILES: Record<string, string> = { 'a.txt': 'alpha', 'sub/b.txt': 'beta beta', 'sub/deep/c.txt': 'gamma gamma gamma' };

  async function makeTree(s: ChildServer, name: string): Promise<void> {
    expect((await s.request('MKCOL', `/${name}`)).status).toBe(201);
    expect((await s.request('MKCOL', `/${name}/sub`)).status).toBe(201);
    expect((await s.request('MKCOL', `/${name}/sub/deep`)).status).toBe(201);
    for (const [rel, content] of Object.entries(FILES)) expect((await s.request('PUT', `/${name}/${rel}`, { body: content })).status).toBe(201);
    for (const target of [`/${name}/`, `/${name}/sub/b.txt`]) {
      const res = await s.request('PROPPATCH', target, {
        headers: { 'Content-Type': 'application/xml; charset=utf-8' },
        body: `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="${PROP_NS}"><D:set><D:prop><x:tag>${name}</x:tag></D:prop></D:set></D:propertyupdate>`,
      });
      expect(res.status).toBe(207);
      expect(res.text).toMatch(/HTTP\/1\.1 200/);
    }
  }

  async function existsOnDisk(rel: string): Promise<boolean> {
    return stat(join(root, rel)).then(() => true, () => false);
  }

  const delays = [0, 1, 2, 4, 8, 15, 30];
  for (const delay of delays) {
    it(`kill ${delay} ms after sending the MOVE: the tree is whole at exactly one place, with its dead properties`, async () => {
      const s = await restart();
      const names = [0, 1, 2].map((i) => `tree-${delay}-${i}`);
      for (const n of names) await makeTree(s, n);
      // three MOVEs in flight at once, then the kill
      const moves = names.map((n) =>
        s.request('MOVE', `/${n}/`, { headers: { Destination: `http://127.0.0.1:${s.port}/moved-${n}/` } }).then((r) => r.status, (e: Error) => `error ${e.message}`),
      );
      await new Promise((r) => setTimeout(r, delay));
      await s.kill9();
      const statuses = await Promise.all(moves);

      const again = await restart();
      const ts = asTestServer(again);
      for (const [i, n] of names.entries()) {
        const src = `/${n}/`;
        const dst = `/moved-${n}/`;
        const atSrc = await existsOnDisk(n);
        const atDst = await existsOnDisk(`moved-${n}`);
        const where = { n, moveAnswer: statuses[i], atSrc, atDst };
        expect(where).toEqual({ ...where, atSrc: !atDst, atDst: !atSrc });
        const here = atDst ? dst : src;
        const gone = atDst ? src : dst;
        // a MOVE that was answered 201 must have landed
        if (statuses[i] === 201) expect(where).toEqual({ ...where, atDst: true });
        // whole
        for (const [rel, content] of Object.entries(FILES)) {
          const get = await again.request('GET', `${here}${rel}`);
          expect({ where, rel, status: get.status, text: get.text }).toEqual({ where, rel, status: 200, text: content });
        }
        expect((await again.request('PROPFIND', gone, { headers: { Depth: '0' } })).status).toBe(404);
        // dead properties where the tree is
        const collProp = await propOf(ts, here, PROP_NS, 'tag');
        expect({ where, status: collProp.status, value: collProp.value }).toEqual({ where, status: 207, value: n });
        const fileProp = await propOf(ts, `${here}sub/b.txt`, PROP_NS, 'tag');
        expect({ where, value: fileProp.value }).toEqual({ where, value: n });
        // and a new resource at the other place starts without them
        expect((await again.request('MKCOL', gone)).status).toBe(201);
        expect((await propOf(ts, gone, PROP_NS, 'tag')).value).toBeUndefined();
      }
    });
  }
});

/** propOf wants a TestServer; a child server offers the same request function. */
function asTestServer(s: ChildServer): Parameters<typeof propOf>[0] {
  return { request: s.request } as unknown as Parameters<typeof propOf>[0];
}
