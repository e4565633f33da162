/**
 * Concurrent writes (semantics.md "Nothing is lost", "operation-in-progress"; architecture rule 5):
 * concurrent PUTs to one path leave exactly one whole body; conditional PUTs cannot both win over
 * the same ETag; a mutation overlapping a long COPY of a tree is refused at once with 423
 * operation-in-progress and Retry-After, and succeeds once the COPY is done.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestResponse } from '../support/testServer';
import { codeOf, conflictFields, hdr, walk } from '../support/conflictKit';
import { dest, lockinfo, putWithPause, XML_HEADERS } from '../support/davHttpKit';
import { uploadTemporaries } from '../support/uploadTemporaries';
import { DAV, text } from '../support/xmlQuery';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function body(seed: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE(((i * 2654435761) ^ (seed * 40503)) >>> 0, i);
  return b;
}

describe('concurrent PUTs to one path', () => {
  it('8 concurrent 1 MiB PUTs leave exactly one of the bodies, whole; GET agrees; no temp file remains', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => body(i + 1, 1024 * 1024));
    const hashes = bodies.map(sha256);
    expect(new Set(hashes).size).toBe(8);
    const results = await Promise.all(bodies.map((b) => t.request('PUT', '/same.bin', { body: b })));
    for (const r of results) expect([201, 204]).toContain(r.status);
    expect(results.filter((r) => r.status === 201).length).toBe(1);
    const disk = await readFile(join(t.root, 'same.bin'));
    expect(disk.length).toBe(1024 * 1024);
    const winner = hashes.indexOf(sha256(disk));
    expect(winner).toBeGreaterThanOrEqual(0);
    const get = await t.request('GET', '/same.bin');
    expect(get.status).toBe(200);
    expect(sha256(get.body)).toBe(hashes[winner]);
    // the last one to finish is the winner: its ETag is the current one
    expect(results.map((r) => hdr(r, 'etag'))).toContain(hdr(get, 'etag'));
    expect(await uploadTemporaries(t)).toEqual([]);
  });

  it('a conditional PUT (If-Match E) racing a plain PUT: the plain body always ends up stored (20 rounds)', async () => {
    // If the conditional PUT runs first it matches E and the plain PUT then replaces it; if the
    // plain PUT runs first, E no longer matches and the conditional one is 412. Either way the
    // plain body is the final content, and the conditional PUT never lands after the plain one.
    for (let i = 0; i < 20; i++) {
      const base = await t.request('PUT', '/race.txt', { body: `base ${i}` });
      const e = hdr(base, 'etag')!;
      const cond = Buffer.from(`conditional ${i} `.repeat(4096));
      const plain = Buffer.from(`plain ${i} `.repeat(4096));
      const [c, p] = await Promise.all([
        t.request('PUT', '/race.txt', { body: cond, headers: { 'If-Match': e } }),
        t.request('PUT', '/race.txt', { body: plain }),
      ]);
      expect(p.status).toBe(204);
      expect([204, 412]).toContain(c.status);
      const disk = await readFile(join(t.root, 'race.txt'));
      expect({ round: i, cond: c.status, plainStored: disk.equals(plain) }).toEqual({ round: i, cond: c.status, plainStored: true });
      if (c.status === 412) expect(hdr(c, 'etag')).toBe(hdr(p, 'etag'));
    }
  });

  it('two conditional PUTs with the same If-Match E: never both 2xx, exactly one wins (20 rounds)', async () => {
    for (let i = 0; i < 20; i++) {
      const base = await t.request('PUT', '/race2.txt', { body: `base ${i}` });
      const e = hdr(base, 'etag')!;
      const a = Buffer.from(`writer A ${i} `.repeat(4096));
      const b = Buffer.from(`writer B ${i} `.repeat(4096));
      const [ra, rb] = await Promise.all([
        t.request('PUT', '/race2.txt', { body: a, headers: { 'If-Match': e } }),
        t.request('PUT', '/race2.txt', { body: b, headers: { 'If-Match': e } }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      expect({ round: i, statuses }).toEqual({ round: i, statuses: [204, 412] });
      const disk = await readFile(join(t.root, 'race2.txt'));
      expect(disk.equals(ra.status === 204 ? a : b)).toBe(true);
    }
  });

  it('two If-None-Match: * creates of one new path: exactly one 201, the other 412 (20 rounds)', async () => {
    for (let i = 0; i < 20; i++) {
      const path = `/create-once-${i}.txt`;
      const a = Buffer.from(`creator A ${i} `.repeat(4096));
      const b = Buffer.from(`creator B ${i} `.repeat(4096));
      const [ra, rb] = await Promise.all([
        t.request('PUT', path, { body: a, headers: { 'If-None-Match': '*' } }),
        t.request('PUT', path, { body: b, headers: { 'If-None-Match': '*' } }),
      ]);
      expect({ round: i, statuses: [ra.status, rb.status].sort() }).toEqual({ round: i, statuses: [201, 412] });
      const disk = await readFile(join(t.root, path.slice(1)));
      expect(disk.equals(ra.status === 201 ? a : b)).toBe(true);
    }
  });
});

describe('a mutation overlapping a long COPY of a tree', () => {
  async function buildTree(dir: string, files: number): Promise<void> {
    const perDir = 100;
    for (let d = 0; d * perDir < files; d++) {
      const sub = join(t.root, dir, `sub${d}`);
      await mkdir(sub, { recursive: true });
      const n = Math.min(perDir, files - d * perDir);
      await Promise.all(Array.from({ length: n }, (_, i) => writeFile(join(sub, `f${i}.txt`), `file ${d}/${i}\n`)));
    }
  }

  /** The operation path every 423 named (checked for the collection href form below). */
  const refusedPaths: string[] = [];

  interface Probe {
    target: 'source' | 'destination';
    res: TestResponse;
    copyDone: boolean;
  }

  it('is 423 operation-in-progress with Retry-After naming the COPY; afterwards the COPY is 201 and the write succeeds', async () => {
    let files = 3000;
    let probes: Probe[] = [];
    let copyRes: TestResponse | undefined;
    let copyStartedAt = 0;
    let unrelated: { res: TestResponse; copyDone: boolean } | undefined;
    let readDuringCopy: { res: TestResponse; copyDone: boolean } | undefined;
    for (let attempt = 0; attempt < 4; attempt++) {
      const src = `big${attempt}`;
      const dst = `big${attempt}-copy`;
      await buildTree(src, files);
      probes = [];
      let copyDone = false;
      copyStartedAt = Date.now();
      const copying = t.request('COPY', `/${src}/`, { headers: { Destination: dest(t, `/${dst}/`) } }).then((r) => {
        copyDone = true;
        return r;
      });
      let n = 0;
      while (!copyDone) {
        const target = n % 2 === 0 ? 'source' : 'destination';
        const path = target === 'source' ? `/${src}/sub0/probe.txt` : `/${dst}/sub0/probe.txt`;
        const res = await t.request('PUT', path, { body: `probe ${n}` });
        probes.push({ target, res, copyDone });
        if (n === 6 && !copyDone) {
          const [u, g] = await Promise.all([t.request('PUT', `/unrelated-${attempt}.txt`, { body: 'elsewhere' }), t.request('GET', `/${src}/sub1/f1.txt`)]);
          unrelated = { res: u, copyDone };
          readDuringCopy = { res: g, copyDone };
        }
        n++;
      }
      copyRes = await copying;
      if (probes.some((p) => p.res.status === 423)) {
        // the tree copied whole (apart from a probe that landed before the COPY began)
        const noProbe = (l: string[]) => l.filter((x) => !x.endsWith('probe.txt'));
        expect(noProbe(await walk(join(t.root, dst)))).toEqual(noProbe(await walk(join(t.root, src))));
        // the write that was refused now succeeds, in both trees
        const retrySrc = await t.request('PUT', `/${src}/sub0/probe.txt`, { body: 'after the copy' });
        expect([201, 204]).toContain(retrySrc.status);
        expect(await readFile(join(t.root, src, 'sub0', 'probe.txt'), 'utf8')).toBe('after the copy');
        const retryDst = await t.request('PUT', `/${dst}/sub0/probe.txt`, { body: 'after the copy' });
        expect([201, 204]).toContain(retryDst.status);
        break;
      }
      files *= 4; // too fast on this machine: grow the tree
    }

    expect(copyRes?.status).toBe(201);
    const refused = probes.filter((p) => p.res.status === 423);
    expect(refused.length).toBeGreaterThan(0);
    for (const p of refused) {
      const res = p.res;
      expect(codeOf(res)).toBe('operation-in-progress');
      const retryAfter = hdr(res, 'retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      const c = conflictFields(res);
      expect(c.method).toBe('COPY');
      expect(c.path).toMatch(/^\/big\d\/?$/);
      refusedPaths.push(c.path);
      expect(c.operation).toBeTruthy();
      const started = Date.parse(c.started);
      expect(new Date(started).toISOString()).toBe(c.started);
      expect(started).toBeGreaterThanOrEqual(copyStartedAt - 1000);
      expect(started).toBeLessThanOrEqual(Date.now());
    }
    // one operation id for every refusal of this COPY
    expect(new Set(refused.map((p) => conflictFields(p.res).operation)).size).toBe(1);
    // once refused, a probe is never accepted while the COPY still runs (seen from the client)
    const firstRefusal = probes.findIndex((p) => p.res.status === 423);
    for (const p of probes.slice(firstRefusal)) {
      if (!p.copyDone) expect([423, 201, 204]).toContain(p.res.status);
    }
    // probes into the destination tree are refused too when they came while it ran
    const dstDuring = probes.slice(firstRefusal).filter((p) => p.target === 'destination' && p.res.status !== 201 && p.res.status !== 204);
    for (const p of dstDuring) expect(p.res.status).toBe(423);
    // mutations elsewhere and reads are not held up
    if (unrelated) expect(unrelated.res.status).toBe(201);
    if (readDuringCopy) expect(readDuringCopy.res.status).toBe(200);
  }, 120_000);

  it('the 423 answer comes as problem+json too, with the operation fields', async () => {
    await buildTree('bigjson', 3000);
    let done = false;
    const copying = t.request('COPY', '/bigjson/', { headers: { Destination: dest(t, '/bigjson-copy/') } }).then((r) => {
      done = true;
      return r;
    });
    let seen: TestResponse | undefined;
    while (!done && !seen) {
      const r = await t.request('PUT', '/bigjson/sub2/x.txt', { body: 'x', headers: { Accept: 'application/problem+json' } });
      if (r.status === 423) seen = r;
    }
    expect((await copying).status).toBe(201);
    if (!seen) {
      console.warn('COPY finished before any probe: problem+json variant not exercised');
      return;
    }
    expect(hdr(seen, 'content-type')).toMatch(/^application\/problem\+json/);
    expect(hdr(seen, 'retry-after')).toMatch(/^\d+$/);
    const p = JSON.parse(seen.text) as Record<string, unknown>;
    expect(p.code).toBe('operation-in-progress');
    expect(p.status).toBe(423);
    expect(p.method).toBe('COPY');
    expect(p.path).toMatch(/^\/bigjson\/?$/);
    refusedPaths.push(String(p.path));
    expect(typeof p.operation).toBe('string');
    expect(typeof p.started).toBe('string');
  }, 120_000);

  it('names the copied collection by its collection href (trailing "/", RFC 4918 §5.2, as every other href keepdav writes)', () => {
    expect(refusedPaths.length).toBeGreaterThan(0);
    for (const path of refusedPaths) expect(path).toMatch(/\/$/);
  });
});

describe('LOCKs among uploads without the token', () => {
  it('once a LOCK is answered, no upload without its token lands until the UNLOCK (3 s of writers and a locker)', async () => {
    const files = ['/contended-a.txt', '/contended-b.txt'];
    for (const f of files) expect((await t.request('PUT', f, { body: 'initial' })).status).toBe(201);
    const until = Date.now() + 3000;
    const statuses = new Map<number, number>();
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; Date.now() < until; i++) {
        const status = await putWithPause(t.port, files[(w + i) % files.length], `writer ${w} upload ${i} `.repeat(40), 2 + ((w * 7 + i * 13) % 25));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    let locked = 0;
    const changedUnderLock: string[] = [];
    const locker = async (): Promise<void> => {
      for (let i = 0; Date.now() < until; i++) {
        const file = files[i % files.length];
        const res = await t.request('LOCK', file, { headers: { ...XML_HEADERS, Depth: '0', Timeout: 'Second-60' }, body: lockinfo('exclusive') });
        expect(res.status).toBe(200);
        const token = hdr(res, 'lock-token')!;
        locked += 1;
        const first = (await t.request('GET', file)).text;
        await new Promise((resolve) => setTimeout(resolve, 30));
        const second = (await t.request('GET', file)).text;
        if (second !== first) changedUnderLock.push(`${file}: ${first.slice(0, 20)} -> ${second.slice(0, 20)}`);
        expect((await t.request('UNLOCK', file, { headers: { 'Lock-Token': token } })).status).toBe(204);
      }
    };
    await Promise.all([...Array.from({ length: 6 }, (_, w) => writer(w)), locker()]);
    expect(changedUnderLock).toEqual([]);
    expect(locked).toBeGreaterThan(10);
    // Uploads landed between the locks, and were refused during them.
    expect([...statuses.keys()].sort()).toEqual([204, 423]);
  });
});

describe('GETs racing PUTs of the same file', () => {
  it('every answer is one version whole: its bytes, length, ETag and checksum agree (2 s of 4 writers and 6 readers)', async () => {
    // Four versions, two of the same size: a GET that stat'ed one and read another would show it.
    const versions = [Buffer.alloc(70_000, 'A'), Buffer.alloc(30_000, 'B'), Buffer.alloc(30_000, 'C'), Buffer.alloc(100, 'D')];
    const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
    const versionOfSha1 = new Map(versions.map((v, i) => [sha1(v), i]));
    await t.request('PUT', '/raced.bin', { body: versions[0] });
    const versionOfEtag = new Map<string, number>();
    const problems: string[] = [];
    const until = Date.now() + 2000;

    async function writer(first: number): Promise<void> {
      for (let n = first; Date.now() < until; n++) {
        const which = n % versions.length;
        const res = await t.request('PUT', '/raced.bin', { body: versions[which] });
        if (res.status !== 204) problems.push(`PUT ${res.status}`);
        else versionOfEtag.set(hdr(res, 'etag')!, which);
      }
    }
    const answers: Array<{ res: TestResponse; ranged: boolean }> = [];
    async function reader(ranged: boolean): Promise<void> {
      while (Date.now() < until) {
        try {
          answers.push({ res: await t.request('GET', '/raced.bin', { headers: ranged ? { Range: 'bytes=0-99999' } : {} }), ranged });
        } catch (err) {
          problems.push(`GET failed: ${(err as Error).message}`);
        }
      }
    }
    await Promise.all([0, 1, 2, 3].map(writer).concat([false, true, false, true, false, true].map(reader)));

    for (const { res, ranged } of answers) {
      const which = versionOfSha1.get(sha1(res.body));
      if (res.status !== (ranged ? 206 : 200) || which === undefined) {
        problems.push(`GET ${res.status}: ${res.body.length} bytes of no version`);
        continue;
      }
      if (Number(hdr(res, 'content-length')) !== res.body.length) problems.push(`Content-Length ${hdr(res, 'content-length')} for ${res.body.length} bytes`);
      if (ranged && hdr(res, 'content-range') !== `bytes 0-${versions[which].length - 1}/${versions[which].length}`) {
        problems.push(`Content-Range ${hdr(res, 'content-range')} over version ${which}`);
      }
      const checksum = hdr(res, 'oc-checksum');
      if (checksum !== undefined && checksum !== `SHA1:${sha1(res.body)}`) problems.push(`OC-Checksum ${checksum} over version ${which}`);
      const tagged = versionOfEtag.get(hdr(res, 'etag')!);
      if (tagged !== undefined && tagged !== which) problems.push(`ETag of version ${tagged} over version ${which}`);
    }
    expect(answers.length).toBeGreaterThan(100);
    expect(problems.slice(0, 10)).toEqual([]);
    expect((await readFile(join(t.root, 'raced.bin'))).length).toBeGreaterThan(0);
  });
});

describe('a version has one ETag', () => {
  it('GETs, HEADs and PROPFINDs of the file racing PUTs never answer a recorded version under another ETag (2 s of 3 writers and 6 readers)', async () => {
    // Each PUT's body is its own, so a body names the PUT that recorded its ETag.
    await t.request('PUT', '/tagged.txt', { body: 'first' });
    const etagOfBody = new Map<string, string>();
    const seen: Array<{ body: string; etag: string }> = [];
    const problems: string[] = [];
    const until = Date.now() + 2000;
    let written = 0;
    async function writer(id: number): Promise<void> {
      for (let n = 0; Date.now() < until; n++) {
        const body = `writer ${id} put ${n}`;
        const res = await t.request('PUT', '/tagged.txt', { body });
        if (res.status !== 204) problems.push(`PUT ${res.status}`);
        else etagOfBody.set(body, hdr(res, 'etag')!);
        written++;
      }
    }
    async function reader(method: 'GET' | 'HEAD' | 'PROPFIND'): Promise<void> {
      while (Date.now() < until) {
        const res = await t.request(method, '/tagged.txt', method === 'PROPFIND' ? { headers: { Depth: '0' } } : {});
        if (res.status !== (method === 'PROPFIND' ? 207 : 200)) problems.push(`${method} ${res.status}`);
        // A HEAD and a PROPFIND name the version by its ETag only: checked against the PUTs' below.
        else seen.push({ body: method === 'GET' ? res.text : '', etag: method === 'PROPFIND' ? text(res.xml(), DAV, 'getetag')! : hdr(res, 'etag')! });
      }
    }
    await Promise.all([0, 1, 2].map(writer).concat((['GET', 'HEAD', 'PROPFIND', 'HEAD', 'GET', 'PROPFIND'] as const).map(reader)));

    const recorded = new Set(etagOfBody.values());
    let checked = 0;
    for (const { body, etag } of seen) {
      if (body === '' || body === 'first') continue;
      checked++;
      if (etagOfBody.get(body) !== etag) problems.push(`"${body}" answered ${etag}, its PUT ${etagOfBody.get(body)}`);
    }
    // A HEAD's or PROPFIND's ETag is one some PUT answered (or the first version's, whose PUT this test did not keep).
    const otherTags = seen.filter((s) => s.body === '').map((s) => s.etag);
    expect(new Set(otherTags.filter((tag) => !recorded.has(tag))).size).toBeLessThanOrEqual(1);
    expect(written).toBeGreaterThan(30);
    expect(checked).toBeGreaterThan(50);
    expect(otherTags.length).toBeGreaterThan(100);
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('a GET of a file changed moments ago by other means waits at most 2 s for an upload over it, then answers the file as it is', async () => {
    await writeFile(join(t.root, 'external.txt'), 'placed by hand');
    const upload = putWithPause(t.port, '/external.txt', 'x'.repeat(64), 6000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const get = await t.request('GET', '/external.txt');
    const tookMs = Date.now() - started;
    expect(get.status).toBe(200);
    expect(get.text).toBe('placed by hand');
    expect(tookMs).toBeGreaterThan(1500);
    expect(tookMs).toBeLessThan(4500);
    expect(await upload).toBe(204);
  });
});
