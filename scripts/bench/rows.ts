/**
 * Every benchmark row, in the order they run in a round. Throughput rows run wrk (2 threads on
 * the 2 cores, one per connection for LOCK+UNLOCK); the rest time single requests.
 *
 * Usage: `for (const row of selectRows(options.rows)) await row.run(ctx);`
 *
 *   get-4k          GET of one 4 KiB file, 64 connections (req/s)
 *   get-4k-auth     the same signed in with Basic as BENCH_USER; keepdav only (the others have no
 *                   users configured); the report gives it as a share of get-4k
 *   propfind-1000   PROPFIND Depth 1 (4 live props) of 1,000 files, 16 connections (req/s)
 *   propfind-allprop-1000  the same without a body (allprop), as Windows Explorer lists a folder
 *                   (lua/propfind-allprop.lua); the ceiling has no allprop, so not for it
 *   propfind-10000  PROPFIND Depth 1 of 10,000 files, one request at a time (s, median)
 *   put-4k          PUT of 4 KiB to new names, 16 connections (req/s; lua/put.lua)
 *   put-4k-over     PUT of 4 KiB over 16 existing files, 16 connections (req/s; lua/put.lua, 8 names a thread):
 *                   keepdav keeps each replaced version (retention), the others replace in place
 *   put-large       PUT of the large file (curl -T, s); its size on disk checked, then removed
 *   get-large       GET of the large file (curl, s)
 *   lock-unlock     exclusive LOCK then UNLOCK, 8 connections each on its own file (pairs/s;
 *                   lua/lock.lua counts the failed pairs)
 *   lock-unlock-1   the same on one connection: the latency of a pair (ms/pair), no queueing
 * In round 1 every wrk row first runs 1 s unmeasured, and PROPFIND 10,000 makes two unmeasured
 * requests, so JIT warm-up is not measured.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { BENCH_USER, FIXTURE, SMALL_FILE_BYTES } from './fixtures';
import type { RowName, ServerName } from './options';
import type { Measurement, RowContext, RowDefinition } from './rowTypes';
import { runWrk, type WrkSpec } from './wrk';

async function wrkMeasure(ctx: RowContext, spec: Omit<WrkSpec, 'seconds'>, warmupArgs?: string[]): Promise<Measurement> {
  if (ctx.round === 1) await runWrk({ ...spec, seconds: 1, scriptArgs: warmupArgs ?? spec.scriptArgs });
  const cpuBefore = ctx.serverCpuSeconds();
  const result = await runWrk({ ...spec, seconds: ctx.options.rowSeconds });
  const cpuAfter = ctx.serverCpuSeconds();
  const errors = result.non2xx + result.socketErrors;
  const operations = result.requests - result.non2xx;
  const cpuMsPerOp = cpuBefore !== null && cpuAfter !== null && operations > 0 ? ((cpuAfter - cpuBefore) * 1000) / operations : undefined;
  return { value: operations / result.durationSeconds, errors, attempts: result.requests, operations, cpuMsPerOp };
}

/** Every server but the bare node:http ceiling, which answers only GET, PROPFIND Depth 1 and PUT (nodeCeiling.ts). */
const everyDavServer = (server: ServerName): boolean => server !== 'ceiling';
/** Every server: the rows the node:http ceiling answers too. */
const everyServer = (): boolean => true;

const AUTHORIZATION = 'Basic ' + Buffer.from(`${BENCH_USER.name}:${BENCH_USER.password}`, 'utf8').toString('base64');

/** Closing `response` tags, whatever the prefix (or none); cheap and namespace-blind on purpose. */
const RESPONSE_END = /<\/(?:[A-Za-z_][\w.-]*:)?response>/g;
const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop>' +
  '<D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>';

/** One request; resolves with status and body (as text when asked). */
function request(url: URL, method: string, headers: http.OutgoingHttpHeaders, body?: string): Promise<{ status: number; text: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, text: all.toString('utf8'), bytes: all.length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function smallGetCheck(ctx: RowContext, headers: http.OutgoingHttpHeaders): Promise<string | null> {
  const res = await request(new URL(FIXTURE.smallFile, ctx.baseUrl), 'GET', headers);
  return res.status === 200 && res.bytes === SMALL_FILE_BYTES ? null : `GET answered ${res.status} with ${res.bytes} bytes`;
}

/** An error note unless a Depth 1 PROPFIND of the `count` files' folder (with PROPFIND_BODY, or none when `allprop`) answers every member. */
async function propfindCheck(ctx: RowContext, count: number, allprop = false): Promise<string | null> {
  const url = new URL(FIXTURE.listing(count), ctx.baseUrl);
  const res = allprop ? await request(url, 'PROPFIND', { Depth: '1' }) : await request(url, 'PROPFIND', { Depth: '1', 'Content-Type': 'application/xml' }, PROPFIND_BODY);
  const responses = res.text.match(RESPONSE_END)?.length ?? 0;
  return res.status === 207 && responses === count + 1 ? null : `PROPFIND answered ${res.status} with ${responses} responses`;
}

const getSmall: RowDefinition = {
  name: 'get-4k',
  label: 'GET 4 KiB, 64 conns',
  unit: 'req/s',
  async run(ctx) {
    const bad = await smallGetCheck(ctx, {});
    if (bad) return { value: null, errors: 1, note: bad };
    return wrkMeasure(ctx, { url: new URL(FIXTURE.smallFile, ctx.baseUrl), threads: 2, connections: 64 });
  },
};

const getSmallSignedIn: RowDefinition = {
  name: 'get-4k-auth',
  label: 'GET 4 KiB signed in (Basic), 64 conns',
  unit: 'req/s',
  appliesTo: (server) => server === 'keepdav' || server === 'baseline',
  async run(ctx) {
    const headers = { Authorization: AUTHORIZATION };
    const bad = await smallGetCheck(ctx, headers);
    if (bad) return { value: null, errors: 1, note: bad };
    return wrkMeasure(ctx, { url: new URL(FIXTURE.smallFile, ctx.baseUrl), threads: 2, connections: 64, headers });
  },
};

const propfindThousand: RowDefinition = {
  appliesTo: everyServer,
  name: 'propfind-1000',
  label: 'PROPFIND Depth 1 on 1,000 files, 16 conns',
  unit: 'req/s',
  async run(ctx) {
    const bad = await propfindCheck(ctx, 1000);
    if (bad) return { value: null, errors: 1, note: bad };
    return wrkMeasure(ctx, { url: new URL(FIXTURE.listing(1000), ctx.baseUrl), threads: 2, connections: 16, script: 'propfind.lua' });
  },
};

const propfindAllpropThousand: RowDefinition = {
  appliesTo: everyDavServer,
  name: 'propfind-allprop-1000',
  label: 'PROPFIND allprop (no body, as Windows Explorer) Depth 1 on 1,000 files, 16 conns',
  unit: 'req/s',
  async run(ctx) {
    const bad = await propfindCheck(ctx, 1000, true);
    if (bad) return { value: null, errors: 1, note: bad };
    return wrkMeasure(ctx, { url: new URL(FIXTURE.listing(1000), ctx.baseUrl), threads: 2, connections: 16, script: 'propfind-allprop.lua' });
  },
};

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const propfindTenThousand: RowDefinition = {
  appliesTo: everyServer,
  name: 'propfind-10000',
  label: 'PROPFIND Depth 1 on 10,000 files (s)',
  unit: 's',
  async run(ctx) {
    const times: number[] = [];
    let errors = 0;
    let note: string | undefined;
    const url = new URL(FIXTURE.listing(10000), ctx.baseUrl);
    // A cold first request took half as long again as the next ones; with 2 rounds, that was half the median.
    if (ctx.round === 1) for (let i = 0; i < 2; i++) await request(url, 'PROPFIND', { Depth: '1', 'Content-Type': 'application/xml' }, PROPFIND_BODY);
    for (let i = 0; i < (ctx.options.quick ? 3 : 5); i++) {
      const started = performance.now();
      const res = await request(url, 'PROPFIND', { Depth: '1', 'Content-Type': 'application/xml' }, PROPFIND_BODY);
      const seconds = (performance.now() - started) / 1000;
      const responses = res.text.match(RESPONSE_END)?.length ?? 0;
      if (res.status === 207 && responses === 10001) times.push(seconds);
      else {
        errors++;
        note = `PROPFIND answered ${res.status} with ${responses} responses`;
      }
    }
    return { value: median(times), errors, note, operations: times.length };
  },
};

/** 4 KiB PUTs at 16 connections through lua/put.lua with `scriptArgs` (after the collection's path). */
function smallPutRow(name: RowName, label: string, scriptArgs: (ctx: RowContext) => string[], warmupArgs?: string[]): RowDefinition {
  return {
    appliesTo: everyServer,
    name,
    label,
    unit: 'req/s',
    run(ctx) {
      const dir = new URL(FIXTURE.putDir, ctx.baseUrl).pathname;
      const spec = { url: ctx.baseUrl, threads: 2, connections: 16, script: 'put.lua', scriptArgs: [dir, ...scriptArgs(ctx)] };
      return wrkMeasure(ctx, spec, warmupArgs && [dir, ...warmupArgs]);
    },
  };
}

const putSmall = smallPutRow('put-4k', 'PUT 4 KiB new files, 16 conns', (ctx) => [`r${ctx.round}`], ['warm']);
// The same 16 names in every round (the warm-up creates them): each request replaces a file.
const putSmallOver = smallPutRow('put-4k-over', 'PUT 4 KiB over existing files, 16 conns', () => ['over', '8']);

/** curl's total time and status; `-H Expect:` so no server pays a 100-continue round trip. */
function curl(args: string[]): Promise<{ status: number; seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const fullArgs = ['-s', '-o', '/dev/null', '-H', 'Expect:', '-w', '%{http_code} %{time_total} %{size_download}', ...args];
    execFile('curl', fullArgs, { timeout: 600_000 }, (error, stdout) => {
      if (error) return reject(new Error(`curl failed: ${error.message}`));
      const [status, seconds, bytes] = stdout.trim().split(' ').map(Number);
      resolve({ status, seconds, bytes });
    });
  });
}

const putLarge: RowDefinition = {
  appliesTo: everyServer,
  name: 'put-large',
  label: 'PUT large file (s)',
  unit: 's',
  async run(ctx) {
    if (!ctx.large.file) return { value: null, errors: 1, note: 'no large file' };
    const name = `large-put-${ctx.round}.bin`;
    // No round pays for an earlier one's writeback.
    spawnSync('sync', { stdio: 'ignore', timeout: 120_000 });
    const res = await curl(['-T', ctx.large.file, new URL(name, ctx.baseUrl).href]);
    const stored = path.join(ctx.root, name);
    // A server that answered before the whole file was in place would look faster than it is.
    const storedBytes = fs.statSync(stored, { throwIfNoEntry: false })?.size ?? 0;
    fs.rmSync(stored, { force: true });
    if (res.status !== 201 && res.status !== 204) return { value: null, errors: 1, note: `PUT ${res.status}` };
    if (storedBytes !== ctx.large.bytes) return { value: null, errors: 1, note: `PUT stored ${storedBytes} of ${ctx.large.bytes} bytes` };
    return { value: res.seconds, errors: 0 };
  },
};

const getLarge: RowDefinition = {
  appliesTo: everyDavServer,
  name: 'get-large',
  label: 'GET large file (s)',
  unit: 's',
  async run(ctx) {
    const res = await curl([new URL(FIXTURE.largeGet, ctx.baseUrl).href]);
    if (res.status !== 200 || res.bytes !== ctx.large.bytes) return { value: null, errors: 1, note: `GET ${res.status}, ${res.bytes} bytes` };
    return { value: res.seconds, errors: 0 };
  },
};

export const LOCK_CONNECTIONS = 8;

const lockUnlock: RowDefinition = {
  appliesTo: everyDavServer,
  name: 'lock-unlock',
  label: 'LOCK+UNLOCK pairs, 8 conns',
  unit: 'pairs/s',
  async run(ctx) {
    const dir = new URL(FIXTURE.lockDir, ctx.baseUrl).pathname;
    // Fresh files each round (and for the warm-up): a lock left held when wrk stopped cannot collide.
    const first = (n: number): string => String(n * LOCK_CONNECTIONS);
    const spec = { url: ctx.baseUrl, threads: LOCK_CONNECTIONS, connections: LOCK_CONNECTIONS, script: 'lock.lua' };
    if (ctx.round === 1) await runWrk({ ...spec, seconds: 1, scriptArgs: [dir, first(0)] });
    const result = await runWrk({ ...spec, seconds: ctx.options.rowSeconds, scriptArgs: [dir, first(ctx.round)] });
    const pairs = result.extra.pairs ?? 0;
    const failed = (result.extra.failed ?? 0) + result.socketErrors;
    return { value: pairs / result.durationSeconds, errors: failed, attempts: pairs + failed, operations: pairs };
  },
};

/** One connection, pairs back to back: what one pair takes (issue 12: "about 1 ms" through PostgreSQL). */
const lockUnlockOneConnection: RowDefinition = {
  appliesTo: everyDavServer,
  name: 'lock-unlock-1',
  label: 'LOCK+UNLOCK pair, 1 conn',
  unit: 'ms/pair',
  async run(ctx) {
    const dir = new URL(FIXTURE.lockDir, ctx.baseUrl).pathname;
    // Files of their own, after those of lock-unlock's rounds (a lock left held when wrk stopped cannot collide).
    const first = (n: number): string => String(LOCK_CONNECTIONS * (ctx.options.rounds + 1) + n);
    const spec = { url: ctx.baseUrl, threads: 1, connections: 1, script: 'lock.lua' };
    if (ctx.round === 1) await runWrk({ ...spec, seconds: 1, scriptArgs: [dir, first(0)] });
    const cpuBefore = ctx.serverCpuSeconds();
    const result = await runWrk({ ...spec, seconds: ctx.options.rowSeconds, scriptArgs: [dir, first(ctx.round)] });
    const cpuAfter = ctx.serverCpuSeconds();
    const pairs = result.extra.pairs ?? 0;
    const failed = (result.extra.failed ?? 0) + result.socketErrors;
    const cpuMsPerOp = cpuBefore !== null && cpuAfter !== null && pairs > 0 ? ((cpuAfter - cpuBefore) * 1000) / pairs : undefined;
    return { value: pairs > 0 ? (result.durationSeconds * 1000) / pairs : null, errors: failed, attempts: pairs + failed, operations: pairs, cpuMsPerOp };
  },
};

export const ALL_ROWS: readonly RowDefinition[] = [
  getSmall,
  getSmallSignedIn,
  propfindThousand,
  propfindAllpropThousand,
  propfindTenThousand,
  putSmall,
  putSmallOver,
  putLarge,
  getLarge,
  lockUnlock,
  lockUnlockOneConnection,
];

export function selectRows(names: readonly RowName[]): RowDefinition[] {
  return ALL_ROWS.filter((row) => names.includes(row.name));
}
