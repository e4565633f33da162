/**
 * Several keepdav instances on one root and one PostgreSQL database (issue 12, README "Several
 * instances"), over real HTTP: two child servers (`keepdav serve --state postgres://…`) and a
 * throwaway cluster (test/support/postgresCluster.ts). Every decision made through one instance
 * binds the other on the very next request. Skipped loudly outside CI without PostgreSQL.
 */
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgresCluster, itWithPostgres, postgresInstalled, type PostgresCluster } from '../support/postgresCluster';
import { startChildServer, type ChildServer } from '../support/childServer';
import { XML_HEADERS, lockinfo, lockTokenOf, header, propertyUpdate, propfindBody, putInTwoParts, putWithPause } from '../support/davHttpKit';
import type { TestResponse } from '../support/testServer';
import { Client } from 'pg';
import { programAvailable, itWhenInstalled } from '../support/realClientKit';
import { makePki, makeServerCertificate } from '../support/tlsKit';
import { startNginx } from '../support/nginxProxy';
import { runLitmus, summarizeLitmus } from '../support/litmusKit';
import { STREAMED_BODY_MIN, uploadTemporaries } from '../support/uploadTemporaries';

const itPg = itWithPostgres();
jest.setTimeout(180_000);

let cluster: PostgresCluster | undefined;
let counter = 0;
const running: ChildServer[] = [];
const dirs: string[] = [];

interface Pair {
  a: ChildServer;
  b: ChildServer;
  root: string;
  url: string;
  start(env?: Record<string, string>): Promise<ChildServer>;
}

/** A fresh database in the shared cluster and a fresh temporary directory holding the root. */
async function freshRootAndDatabase(): Promise<{ url: string; dir: string; root: string }> {
  cluster ??= await startPostgresCluster();
  const url = await cluster.createDatabase(`several_${++counter}`);
  const dir = mkdtempSync(join(tmpdir(), 'keepdav-several-'));
  dirs.push(dir);
  const root = join(dir, 'root');
  mkdirSync(root);
  return { url, dir, root };
}

/** Two instances on a fresh root, a fresh database and one local state directory (shared, as on a network filesystem). */
async function twoInstances(envA: Record<string, string> = {}): Promise<Pair> {
  const { url, dir, root } = await freshRootAndDatabase();
  const start = async (env: Record<string, string> = {}) => {
    const server = await startChildServer(root, url, ['--state-dir', join(dir, 'state')], 60_000, env);
    running.push(server);
    return server;
  };
  const a = await start(envA);
  const b = await start();
  return { a, b, root, url, start };
}

afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((s) => s.kill9()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await cluster?.remove();
});

const LOCK_HEADERS = { ...XML_HEADERS, Timeout: 'Second-600' };

function lock(server: ChildServer, path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  return server.request('LOCK', path, { headers: { ...LOCK_HEADERS, ...headers }, body: lockinfo('exclusive') });
}

/** Repeats `attempt` until `done` says so (a real lease time passes; nothing here can inject that clock). */
async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('several instances, one database', () => {
  itPg('a LOCK through A binds B at once: PUT without the token 423, with it 204, UNLOCK through B 204', async () => {
    const { a, b, root } = await twoInstances();
    expect((await a.request('PUT', '/report.txt', { body: 'v1' })).status).toBe(201);
    const locked = await lock(a, '/report.txt');
    expect(locked.status).toBe(200);
    const token = lockTokenOf(locked);

    const refused = await b.request('PUT', '/report.txt', { body: 'from B without the token' });
    expect(refused.status).toBe(423);
    expect(refused.text).toContain('lock-token-submitted');
    expect(readFileSync(join(root, 'report.txt'), 'utf8')).toBe('v1');

    const accepted = await b.request('PUT', '/report.txt', { body: 'from B with the token', headers: { If: `(<${token}>)` } });
    expect(accepted.status).toBe(204);
    expect(readFileSync(join(root, 'report.txt'), 'utf8')).toBe('from B with the token');

    expect((await b.request('UNLOCK', '/report.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
    expect((await a.request('PUT', '/report.txt', { body: 'A again, no lock left' })).status).toBe(204);
    expect((await a.request('UNLOCK', '/report.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(409);
  });

  itPg("a LOCK through A shows in B's listings (allprop, as Windows Explorer lists), and is gone from them after UNLOCK", async () => {
    const { a, b } = await twoInstances();
    expect((await a.request('MKCOL', '/shared/')).status).toBe(201);
    for (const name of ['one.txt', 'two.txt', 'three.txt']) expect((await a.request('PUT', `/shared/${name}`, { body: name })).status).toBe(201);
    const members = async (server: ChildServer) => {
      const listing = await server.request('PROPFIND', '/shared/', { headers: { Depth: '1' } });
      expect(listing.status).toBe(207);
      return listing.text.match(/<D:response>.*?<\/D:response>/gs)!.slice(1);
    };
    const before = await members(b);
    expect(before).toHaveLength(3);
    const locked = await lock(a, '/shared/two.txt');
    expect(locked.status).toBe(200);
    const token = lockTokenOf(locked);
    const during = await members(b);
    expect(during.find((m) => m.includes('/shared/two.txt'))).toContain(token);
    expect(during.filter((m) => !m.includes('/shared/two.txt'))).toEqual(before.filter((m) => !m.includes('/shared/two.txt')));
    expect((await b.request('UNLOCK', '/shared/two.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
    expect(await members(b)).toEqual(before);
  });

  itPg('of 64 concurrent exclusive LOCKs spread over both instances exactly one is granted each round, none lost', async () => {
    const { a, b } = await twoInstances();
    for (let round = 0; round < 3; round++) {
      const path = `/contended-${round}.txt`;
      const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => lock(i % 2 === 0 ? a : b, path)));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 200 || s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 423)).toHaveLength(63);
      const winner = answers.find((r) => r.status === 200 || r.status === 201)!;
      const token = lockTokenOf(winner);
      // The one granted lock is what both instances report, and it works through either.
      for (const server of [a, b]) {
        const found = await server.request('PROPFIND', path, { headers: { ...XML_HEADERS, Depth: '0' }, body: propfindBody([['DAV:', 'lockdiscovery']]) });
        expect(found.text.match(/urn:uuid:[0-9a-f-]+/g)).toEqual([token]);
      }
      expect((await b.request('PUT', path, { body: 'x', headers: { If: `(<${token}>)` } })).status).toBe(204);
    }
  });

  itPg('a LOCK through B on a file whose upload through A is under way waits for it, then locks what A wrote', async () => {
    const { a, b, root, url } = await twoInstances();
    expect((await a.request('PUT', '/upload.txt', { body: 'v0' })).status).toBe(201);
    expect((await a.request('MKCOL', '/folder')).status).toBe(201);
    for (const [target, lockPath, depth] of [['/upload.txt', '/upload.txt', '0'], ['/folder/member.txt', '/folder', 'infinity']]) {
      const upload = putInTwoParts(a.port, target, 'from A'.padEnd(32, '.'), 'rest'.padEnd(32, '.'));
      // A holds its claim once the body has started (it looked at the locks before it).
      expect(await until(() => claimLocksHeld(url), (n) => n > 0, 10_000)).toBeGreaterThan(0);
      let lockDone = false;
      const locking = lock(b, lockPath, { Depth: depth }).then((r) => ((lockDone = true), r));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(lockDone).toBe(false);
      upload.finish();
      expect(await upload.status).toBe(target === '/upload.txt' ? 204 : 201);
      const locked = await locking;
      expect(locked.status).toBe(200);
      const token = lockTokenOf(locked);
      expect(readFileSync(join(root, target.slice(1)), 'utf8')).toBe('from A'.padEnd(32, '.') + 'rest'.padEnd(32, '.'));
      expect((await a.request('PUT', target, { body: 'no token' })).status).toBe(423);
      expect((await a.request('UNLOCK', lockPath, { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
    }
  });

  itPg('an instance starting while an upload through A is under way leaves its temporary alone, and sweeps only old ones', async () => {
    const { a, root, start } = await twoInstances();
    const stateDir = join(root, '..', 'state');
    const firstHalf = 'first half '.padEnd(STREAMED_BODY_MIN, '.');
    const upload = putInTwoParts(a.port, '/in-flight.txt', firstHalf, 'second half'.repeat(10));
    expect((await until(() => uploadTemporaries({ root, stateDir }), (found) => found.length > 0, 10_000)).length).toBe(1);
    // an orphan of a crash long ago, beside where it was going
    const orphan = join(root, '.keepdav-tmp-0123456789abcdef');
    writeFileSync(orphan, 'left by a crash an hour ago');
    utimesSync(orphan, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    await start(); // its start-up sweep runs before it listens
    expect(existsSync(orphan)).toBe(false);
    upload.finish();
    expect(await upload.status).toBe(201);
    expect(readFileSync(join(root, 'in-flight.txt'), 'utf8')).toBe(firstHalf + 'second half'.repeat(10));
    expect(await uploadTemporaries({ root, stateDir })).toEqual([]);
  });

  itPg('once a LOCK through B is answered, no upload without its token lands through A or B until the UNLOCK (3 s)', async () => {
    const { a, b } = await twoInstances();
    const files = ['/contended-a.txt', '/contended-b.txt'];
    for (const f of files) expect((await a.request('PUT', f, { body: 'initial' })).status).toBe(201);
    const until = Date.now() + 3000;
    const statuses = new Set<number>();
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; Date.now() < until; i++) {
        const server = (w + i) % 2 === 0 ? a : b;
        statuses.add(await putWithPause(server.port, files[(w + i) % files.length], `writer ${w} upload ${i} `.repeat(40), 2 + ((w * 7 + i * 13) % 25)));
      }
    };
    let locked = 0;
    const changedUnderLock: string[] = [];
    const locker = async (): Promise<void> => {
      for (let i = 0; Date.now() < until; i++) {
        const file = files[i % files.length];
        const res = await lock(b, file, { Depth: '0', Timeout: 'Second-60' });
        expect(res.status).toBe(200);
        locked += 1;
        const first = (await a.request('GET', file)).text;
        await new Promise((resolve) => setTimeout(resolve, 30));
        const second = (await b.request('GET', file)).text;
        if (second !== first) changedUnderLock.push(`${file}: ${first.slice(0, 20)} -> ${second.slice(0, 20)}`);
        expect((await a.request('UNLOCK', file, { headers: { 'Lock-Token': `<${lockTokenOf(res)}>` } })).status).toBe(204);
      }
    };
    await Promise.all([...Array.from({ length: 6 }, (_, w) => writer(w)), locker()]);
    expect(changedUnderLock).toEqual([]);
    expect(locked).toBeGreaterThan(5);
    expect([...statuses].sort()).toEqual([204, 423]);
  });

  itPg('If-Match pairs sent to different instances: exactly one wins, the other is 412, nothing is lost', async () => {
    const { a, b, root } = await twoInstances();
    for (let round = 0; round < 8; round++) {
      const path = `/race-${round}.txt`;
      const created = await a.request('PUT', path, { body: 'base' });
      const etag = header(created, 'etag')!;
      const [fromA, fromB] = await Promise.all([
        a.request('PUT', path, { body: `A ${round}`, headers: { 'If-Match': etag } }),
        b.request('PUT', path, { body: `B ${round}`, headers: { 'If-Match': etag } }),
      ]);
      expect([fromA.status, fromB.status].sort()).toEqual([204, 412]);
      const winner = fromA.status === 204 ? `A ${round}` : `B ${round}`;
      expect(readFileSync(join(root, path.slice(1)), 'utf8')).toBe(winner);
      // What the winner replaced is a version, listed by both instances.
      const versions = JSON.parse((await b.request('GET', `${path}?versions`)).text) as { versions: Array<{ etag: string }> };
      expect(versions.versions.map((v) => v.etag)).toContain(etag);
    }
  });

  itPg('database unreachable: writes 503 with Retry-After (never 500), reads of content go on, both reconnect by themselves, no lock lost', async () => {
    const { a, b } = await twoInstances();
    expect((await a.request('PUT', '/kept.txt', { body: 'still readable' })).status).toBe(201);
    // Each instance has served it once since it last changed: its ETag is known without the database.
    for (const server of [a, b]) expect((await server.request('GET', '/kept.txt')).status).toBe(200);
    const token = lockTokenOf(await a.request('LOCK', '/locked.txt', { headers: LOCK_HEADERS, body: lockinfo('exclusive') }));

    await cluster!.stop();
    try {
      for (const server of [a, b]) {
        const write = await server.request('PUT', '/new.txt', { body: 'during the outage' });
        expect(write.status).toBe(503);
        expect(header(write, 'retry-after')).toMatch(/^\d+$/);
        expect(write.text).toContain('state-unavailable');
        const read = await server.request('GET', '/kept.txt');
        expect(read.status).toBe(200);
        expect(read.text).toBe('still readable');
      }
      expect((await b.request('LOCK', '/other.txt', { headers: LOCK_HEADERS, body: lockinfo('exclusive') })).status).toBe(503);
    } finally {
      await cluster!.start();
    }
    const after = await until(() => b.request('PUT', '/new.txt', { body: 'after the outage' }), (r) => r.status !== 503, 30_000);
    expect(after.status).toBe(201);
    // The lock taken before the outage still binds both instances.
    expect((await b.request('PUT', '/locked.txt', { body: 'no token' })).status).toBe(423);
    expect((await a.request('PUT', '/locked.txt', { body: 'token', headers: { If: `(<${token}>)` } })).status).toBe(204);
    expect(a.stderr() + b.stderr()).not.toMatch(/"status":500/);
  });

  itPg('kill -9 of A in the middle of a MOVE of thousands of files: B answers 423 for the tree meanwhile, then recovers the intent within the lease, properties and versions following', async () => {
    const { a, b, root, start } = await twoInstances();
    // A third instance takes A's place, and dies at the MOVE's rename.
    await a.stop();
    const dying = await start({ KEEPDAV_CRASH_AT: 'move:renamed' });
    mkdirSync(join(root, 'big', 'sub'), { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(join(root, 'big', i % 2 ? 'sub' : '', `f${i}.txt`), `file ${i}`);
    const put = await b.request('PUT', '/big/sub/tracked.txt', { body: 'tracked' });
    const etag = header(put, 'etag')!;
    expect((await b.request('PROPPATCH', '/big/sub/tracked.txt', { headers: XML_HEADERS, body: propertyUpdate('<D:set><D:prop><x:colour xmlns:x="urn:test">blue</x:colour></D:prop></D:set>') })).status).toBe(207);

    const moved = await dying.request('MOVE', '/big', { headers: { Destination: `${dying.url}moved` } }).then((r) => r.status, (e: Error) => e.message);
    expect(moved).toMatch(/socket hang up|ECONNRESET/); // the connection died with the process
    await dying.kill9();
    expect(existsSync(join(root, 'moved', 'sub', 'tracked.txt'))).toBe(true);

    // Meanwhile: writes into the tree it was moving are 423 operation-in-progress on B.
    const meanwhile = await b.request('PUT', '/moved/sub/new.txt', { body: 'too early' });
    expect(meanwhile.status).toBe(423);
    expect(meanwhile.text).toContain('operation-in-progress');
    expect(header(meanwhile, 'retry-after')).toMatch(/^\d+$/);

    // Within the lease (10 s after A's last heartbeat) B recovers the intent.
    const after = await until(() => b.request('PUT', '/moved/sub/new.txt', { body: 'after recovery' }), (r) => r.status !== 423, 40_000);
    expect(after.status).toBe(201);
    const props = await b.request('PROPFIND', '/moved/sub/tracked.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body: propfindBody([['urn:test', 'colour'], ['DAV:', 'getetag']]) });
    expect(props.text).toMatch(/<[^>]*colour[^>]*>blue</);
    expect(props.text).toContain(`<D:getetag>${etag}</D:getetag>`);
    expect(header(await b.request('GET', '/moved/sub/tracked.txt'), 'etag')).toBe(etag);
    expect(b.stderr()).toMatch(/recovered the interrupted work of instance/);
  });

  itPg('the database goes away between a MOVE\'s rename and its commit: 503 saying it was carried out, the tree 423 meanwhile, its record made when the database is back, and nothing of what B writes after is overwritten by a later recovery', async () => {
    const { a, b, root, url, start } = await twoInstances();
    await a.stop();
    // A third instance takes A's place, and stops itself (SIGSTOP) right after the MOVE's rename.
    const mover = await start({ KEEPDAV_STOP_AT: 'move:renamed' });
    mkdirSync(join(root, 'big', 'sub'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(root, 'big', i % 2 ? 'sub' : '', `f${i}.txt`), `file ${i}`);
    const etag = header(await b.request('PUT', '/big/sub/tracked.txt', { body: 'tracked' }), 'etag')!;
    const colour = (value: string) => propertyUpdate(`<D:set><D:prop><x:colour xmlns:x="urn:test">${value}</x:colour></D:prop></D:set>`);
    expect((await b.request('PROPPATCH', '/big/sub/tracked.txt', { headers: XML_HEADERS, body: colour('blue') })).status).toBe(207);
    const colourOf = async (server: ChildServer) => {
      const found = await server.request('PROPFIND', '/moved/sub/tracked.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body: propfindBody([['urn:test', 'colour']]) });
      return /<[^>]*colour[^>]*>([^<]*)</.exec(found.text)?.[1] ?? null;
    };

    const moving = mover.request('MOVE', '/big', { headers: { Destination: `${mover.url}moved` } });
    await until(async () => processState(mover.child.pid!), (state) => state === 'T', 20_000);
    expect(processState(mover.child.pid!)).toBe('T');
    expect(existsSync(join(root, 'moved', 'sub', 'tracked.txt'))).toBe(true);
    await cluster!.stop();
    let databaseUp = false;
    try {
      process.kill(mover.child.pid!, 'SIGCONT');
      // It tries the commit for a while, then answers 503, saying the MOVE was carried out.
      const answer = await moving;
      expect(answer.status).toBe(503);
      expect(answer.text).toContain('state-unavailable');
      expect(answer.text).toContain('MOVE was carried out');
      expect(existsSync(join(root, 'big'))).toBe(false);
      await cluster!.start();
      databaseUp = true;
    } finally {
      if (!databaseUp) await cluster!.start();
    }
    // Once the database is back, the mover makes the record itself: the property followed the
    // file, its ETag stayed, the intent is gone, and nobody had to recover anything.
    await until(() => colourOf(b), (value) => value === 'blue', 30_000);
    expect(await colourOf(b)).toBe('blue');
    expect(header(await b.request('GET', '/moved/sub/tracked.txt'), 'etag')).toBe(etag);
    const after = await until(() => b.request('PUT', '/moved/sub/new.txt', { body: 'after' }), (r) => r.status !== 423 && r.status !== 503, 20_000);
    expect(after.status).toBe(201);
    expect(await pendingIntents(url)).toBe(0);
    expect(mover.stderr()).toMatch(/its record is made, now that the state database is back/);

    // What B writes now is not undone by the mover's next start (its recovery finds nothing to redo).
    expect((await b.request('PROPPATCH', '/moved/sub/tracked.txt', { headers: XML_HEADERS, body: colour('red') })).status).toBe(207);
    await mover.kill9();
    const restarted = await start();
    expect(await colourOf(restarted)).toBe('red');
    expect(a.stderr() + b.stderr() + mover.stderr()).not.toMatch(/"status":500/);
  });

  itPg('overlapping MOVE, DELETE and PUTs through both instances: each is refused (423/404/409) or serialized, and no file is lost', async () => {
    const { a, b, root } = await twoInstances();
    expect((await a.request('MKCOL', '/t')).status).toBe(201);
    const names = Array.from({ length: 200 }, (_, i) => `f${i}.txt`);
    for (const name of names.slice(0, 20)) expect((await (name.length % 2 ? a : b).request('PUT', `/t/${name}`, { body: name })).status).toBe(201);
    for (const name of names.slice(20)) writeFileSync(join(root, 't', name), name);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all([
        a.request('MOVE', round % 2 ? '/u' : '/t', { headers: { Destination: `${a.url}${round % 2 ? 't' : 'u'}` } }),
        b.request('DELETE', round % 2 ? '/t' : '/u'),
        a.request('PUT', `/t/new-a-${round}.txt`, { body: 'a' }),
        b.request('PUT', `/u/new-b-${round}.txt`, { body: 'b' }),
        b.request('MOVE', '/t', { headers: { Destination: `${b.url}w` } }),
      ]);
      for (const answer of answers) expect([201, 204, 404, 409, 423]).toContain(answer.status);
      // Every original file is served somewhere or listed in the trash with its content kept.
      const trash = JSON.parse((await b.request('GET', '/?trash')).text) as { deleted: Array<{ path: string; versionId: string }> };
      const deleted = new Map(trash.deleted.map((d) => [d.path.split('/').pop()!, d]));
      for (const name of names) {
        const served = ['t', 'u', 'w'].find((dir) => existsSync(join(root, dir, name)));
        if (served) {
          expect(readFileSync(join(root, served, name), 'utf8')).toBe(name);
          continue;
        }
        const version = deleted.get(name);
        expect(version).toBeDefined();
        const bytes = await a.request('GET', `${version!.path}?version=${version!.versionId}`);
        expect(bytes.text).toBe(name);
      }
      // Put the tree back in /t for the next round (from wherever it went), or stop when it was deleted.
      for (const dir of ['u', 'w']) if (existsSync(join(root, dir)) && !existsSync(join(root, 't'))) expect((await b.request('MOVE', `/${dir}`, { headers: { Destination: `${b.url}t` } })).status).toBe(201);
      if (!existsSync(join(root, 't'))) break;
    }
    expect(a.stderr() + b.stderr()).not.toMatch(/"status":500/);
  });

  itPg("a stale PUT refused on A makes rclone's follow-up DELETE on B refused too", async () => {
    const { a, b, root } = await twoInstances();
    const now = Math.floor(Date.now() / 1000);
    expect((await a.request('PUT', '/doc.txt', { body: 'newer', headers: { 'X-OC-Mtime': String(now), 'User-Agent': 'rclone/v1.69' } })).status).toBe(201);
    const stale = await a.request('PUT', '/doc.txt', { body: 'older', headers: { 'X-OC-Mtime': String(now - 3600), 'User-Agent': 'rclone/v1.69' } });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('stale-version');
    const cleanup = await b.request('DELETE', '/doc.txt', { headers: { 'User-Agent': 'rclone/v1.69' } });
    expect(cleanup.status).toBe(409);
    expect(cleanup.text).toContain('stale-delete');
    expect(readFileSync(join(root, 'doc.txt'), 'utf8')).toBe('newer');
  });
});

/** The instances' lease rows, straight from the database. */
async function leaseRows(url: string): Promise<string[]> {
  return (await queryDatabase<{ pid: number }>(url, 'SELECT pid FROM instances ORDER BY pid')).map((r) => String(r.pid));
}

/** Intents not yet completed, of any instance, straight from the database. */
async function pendingIntents(url: string): Promise<number> {
  return Number((await queryDatabase<{ n: string }>(url, 'SELECT count(*) AS n FROM intents'))[0].n);
}

/** The rows of one statement, on a connection of its own. */
async function queryDatabase<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The state letter of a process in /proc (R, S, D, T for stopped...), or null when it is gone. */
function processState(pid: number): string | null {
  try {
    return /^\d+ \(.*\) (\S)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** How many path claims (one-key advisory locks) are held now, on any instance. */
async function claimLocksHeld(url: string): Promise<number> {
  return Number((await queryDatabase<{ n: string }>(url, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted"))[0].n);
}

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const itFaketime = itWhenInstalled('faketime', programAvailable('faketime') && existsSync(LIBFAKETIME), 'apt-get install -y faketime');

describe('paused and clock-skewed instances', () => {
  itPg('SIGSTOP of A while it holds a claim: B waits and recovers nothing while A\'s session lives; after SIGCONT both writes land, in order', async () => {
    const { a, b, root, url } = await twoInstances();
    expect((await a.request('PUT', '/shared.txt', { body: 'v0' })).status).toBe(201);
    const first = putInTwoParts(a.port, '/shared.txt', 'from A'.padEnd(32, '.'), 'rest'.padEnd(32, '.'));
    // A is inside its claim once the body has started; B's write to the same file must wait for it.
    expect(await until(() => claimLocksHeld(url), (n) => n > 0, 10_000)).toBeGreaterThan(0);
    a.child.kill('SIGSTOP');
    try {
      let bDone = false;
      const second = b.request('PUT', '/shared.txt', { body: 'from B' }).then((r) => ((bDone = true), r.status));
      // Longer than the lease (10 s): a paused instance keeps its session, so nobody declares it dead.
      await new Promise((resolve) => setTimeout(resolve, 13_000));
      expect(bDone).toBe(false);
      expect(await leaseRows(url)).toHaveLength(2);
      expect(b.stderr()).not.toMatch(/recovered the interrupted work/);
      a.child.kill('SIGCONT');
      first.finish();
      expect(await first.status).toBe(204);
      expect(await second).toBe(204);
    } finally {
      a.child.kill('SIGCONT');
    }
    expect(readFileSync(join(root, 'shared.txt'), 'utf8')).toBe('from B');
    const versions = JSON.parse((await a.request('GET', '/shared.txt?versions')).text) as { versions: unknown[] };
    expect(versions.versions).toHaveLength(2); // v0 and A's content, both kept
  });

  itFaketime('an instance whose host clock is 10 minutes ahead (faketime) judges lock expiry by the database clock', async () => {
    const { a, start } = await twoInstances();
    const ahead = await start({ LD_PRELOAD: LIBFAKETIME, FAKETIME: '+10m', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    expect((await a.request('PUT', '/clock.txt', { body: 'v1' })).status).toBe(201);
    const token = lockTokenOf(await a.request('LOCK', '/clock.txt', { headers: { ...XML_HEADERS, Timeout: 'Second-300' }, body: lockinfo('exclusive') }));
    // By its own clock the 5-minute lock expired 5 minutes ago; by the database's it holds.
    expect((await ahead.request('PUT', '/clock.txt', { body: 'no token' })).status).toBe(423);
    const discovery = await ahead.request('PROPFIND', '/clock.txt', { headers: { ...XML_HEADERS, Depth: '0' }, body: propfindBody([['DAV:', 'lockdiscovery']]) });
    const seconds = Number(/Second-(\d+)/.exec(discovery.text)?.[1]);
    expect(seconds).toBeGreaterThan(250);
    expect(seconds).toBeLessThanOrEqual(300);
    // A lock it grants lasts its timeout from the database's now, for the other instance too.
    const grantedAhead = lockTokenOf(await ahead.request('LOCK', '/other.txt', { headers: { ...XML_HEADERS, Timeout: 'Second-120' }, body: lockinfo('exclusive') }));
    expect((await a.request('PUT', '/other.txt', { body: 'no token' })).status).toBe(423);
    expect((await a.request('UNLOCK', '/other.txt', { headers: { 'Lock-Token': `<${grantedAhead}>` } })).status).toBe(204);
    expect((await ahead.request('UNLOCK', '/clock.txt', { headers: { 'Lock-Token': `<${token}>` } })).status).toBe(204);
  });
});

const itLitmusBehindNginx = itWhenInstalled('litmus', programAvailable('litmus') && programAvailable('nginx') && programAvailable('openssl') && postgresInstalled, 'apt-get install -y litmus nginx openssl postgresql');

describe('behind a load balancer', () => {
  itLitmusBehindNginx('litmus through an nginx upstream alternating the two instances on every request: 104 passed, 0 failed, 0 warnings', async () => {
    const { url, dir, root } = await freshRootAndDatabase();
    const args = ['--state-dir', join(dir, 'state'), '--base-path', '/dav/', '--trust-proxy', '127.0.0.1'];
    const instances = [await startChildServer(root, url, args, 60_000), await startChildServer(root, url, args, 60_000)];
    running.push(...instances);
    const pki = await makePki(dir);
    const cert = await makeServerCertificate(pki, 'nginx');
    const nginx = await startNginx({ dir: join(dir, 'nginx'), certFile: cert.certFile, keyFile: cert.keyFile, upstreamPort: 0, upstreamPorts: instances.map((s) => s.port), basePath: '/dav/' });
    try {
      const { suiteNames: suites, passed, failed, warnings, failures } = summarizeLitmus(await runLitmus(`http://localhost:${nginx.plainPort}/dav/`));
      const result = { suites, passed, failed, warnings, failures };
      expect(result).toEqual({ suites: ['basic', 'copymove', 'props', 'locks', 'http'], passed: 104, failed: 0, warnings: [], failures: [] });
      // Both instances answered litmus's requests.
      for (const server of instances) expect((server.stderr().match(/"kind":"access"/g) ?? []).length).toBeGreaterThan(50);
    } finally {
      await nginx.stop();
    }
  }, 300_000);
});
