/**
 * The request-rate rows: many small requests from concurrent keep-alive workers, a short
 * unmeasured warm-up, then `options.rowMs` measured (or a request cap, whichever comes first).
 *
 * Usage: `await getSmallFileRow.run({ baseUrl, pid, options })` (see rows.ts for the list).
 *
 *   get-4k         GET of one 4 KiB file, 64 concurrent; 200 with 4096 bytes
 *   get-4k-auth    the same, signed in with Basic as BENCH_USER (servers without users ignore it);
 *                  the report gives its ratio to get-4k
 *   propfind-1000  PROPFIND Depth 1 (4 named props) of a 1,000-file collection, 4 concurrent;
 *                  207 with 1,001 <response> elements
 *   put-4k         PUT of 4 KiB to new names, 16 concurrent; 201
 *   lock-unlock    exclusive LOCK (200 + Lock-Token) then UNLOCK (204) of a file, 16 concurrent,
 *                  each worker on its own files
 * Warm-up failures are counted in the row's errors too.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { sendRequest } from './httpClient';
import { fail, OK, runLoad, type LoadResult, type Outcome } from './loadGenerator';
import { BENCH_USER, FIXTURE, LISTING_FILE_COUNT, LOCK_FILE_COUNT, lockFileName, SMALL_FILE_BYTES } from './fixtures';
import type { RowContext, RowDefinition, RowResult } from './rowTypes';

type Operation = (agent: http.Agent, worker: number) => Promise<Outcome>;

interface ThroughputPlan {
  concurrency: number;
  maxOps: number;
  operation: Operation;
}

async function measure(row: RowDefinition, ctx: RowContext, plan: ThroughputPlan): Promise<RowResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency });
  try {
    const load = (durationMs: number, maxOps: number): Promise<LoadResult> =>
      runLoad({
        concurrency: plan.concurrency,
        durationMs,
        maxOps,
        abortWhen: () => !ctx.serverAlive(),
        operation: (w) => plan.operation(agent, w),
      });
    const warmup = await load(ctx.options.warmupMs, Math.ceil(plan.maxOps / 10));
    const run = await load(ctx.options.rowMs, plan.maxOps);
    const errorReasons = { ...run.errorReasons };
    for (const [reason, count] of Object.entries(warmup.errorReasons)) {
      errorReasons[`${reason} (warm-up)`] = count;
    }
    return {
      row: row.name,
      label: row.label,
      unit: row.unit,
      value: run.ok > 0 ? run.ok / (run.elapsedMs / 1000) : null,
      ok: run.ok,
      errors: run.errors + warmup.errors,
      errorReasons,
      elapsedMs: run.elapsedMs,
      p50Ms: run.p50Ms,
      p99Ms: run.p99Ms,
    };
  } finally {
    agent.destroy();
  }
}

function statusFailure(method: string, status: number): Outcome {
  return fail(`${method} ${status}`);
}

export const getSmallFileRow: RowDefinition = {
  name: 'get-4k',
  label: 'GET 4 KiB file (64 conc.)',
  unit: 'req/s',
  run(ctx) {
    const url = new URL(FIXTURE.smallFile, ctx.baseUrl);
    return measure(getSmallFileRow, ctx, {
      concurrency: 64,
      maxOps: 1_000_000,
      async operation(agent) {
        const res = await sendRequest({ agent, method: 'GET', url });
        if (res.status !== 200) return statusFailure('GET', res.status);
        return res.bytes === SMALL_FILE_BYTES ? OK : fail(`GET body ${res.bytes} bytes`);
      },
    });
  },
};

const BENCH_AUTHORIZATION = 'Basic ' + Buffer.from(`${BENCH_USER.name}:${BENCH_USER.password}`, 'utf8').toString('base64');

export const getSmallFileSignedInRow: RowDefinition = {
  name: 'get-4k-auth',
  label: 'GET 4 KiB signed in (64 conc.)',
  unit: 'req/s',
  run(ctx) {
    const url = new URL(FIXTURE.smallFile, ctx.baseUrl);
    return measure(getSmallFileSignedInRow, ctx, {
      concurrency: 64,
      maxOps: 1_000_000,
      async operation(agent) {
        const res = await sendRequest({ agent, method: 'GET', url, headers: { Authorization: BENCH_AUTHORIZATION } });
        if (res.status !== 200) return statusFailure('GET', res.status);
        return res.bytes === SMALL_FILE_BYTES ? OK : fail(`GET body ${res.bytes} bytes`);
      },
    });
  },
};

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<D:propfind xmlns:D="DAV:"><D:prop>' +
  '<D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/>' +
  '</D:prop></D:propfind>';

/** Closing `response` tags, whatever the prefix (or none); cheap and namespace-blind on purpose. */
const RESPONSE_END = /<\/(?:[A-Za-z_][\w.-]*:)?response>/g;

export const propfindListingRow: RowDefinition = {
  name: 'propfind-1000',
  label: 'PROPFIND D1, 1,000 files (4 conc.)',
  unit: 'req/s',
  run(ctx) {
    const url = new URL(FIXTURE.listing, ctx.baseUrl);
    const expected = LISTING_FILE_COUNT + 1;
    return measure(propfindListingRow, ctx, {
      concurrency: 4,
      maxOps: 100_000,
      async operation(agent) {
        const res = await sendRequest({
          agent,
          method: 'PROPFIND',
          url,
          headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' },
          body: PROPFIND_BODY,
          keepText: true,
        });
        if (res.status !== 207) return statusFailure('PROPFIND', res.status);
        const responses = res.text?.match(RESPONSE_END)?.length ?? 0;
        return responses === expected ? OK : fail(`PROPFIND ${responses} responses`);
      },
    });
  },
};

export const putSmallFileRow: RowDefinition = {
  name: 'put-4k',
  label: 'PUT 4 KiB new file (16 conc.)',
  unit: 'req/s',
  run(ctx) {
    const body = crypto.randomBytes(SMALL_FILE_BYTES);
    let next = 0;
    return measure(putSmallFileRow, ctx, {
      concurrency: 16,
      maxOps: 1_000_000,
      async operation(agent) {
        const url = new URL(`${FIXTURE.putDir}new-${next++}.bin`, ctx.baseUrl);
        const res = await sendRequest({
          agent,
          method: 'PUT',
          url,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
          body,
        });
        return res.status === 201 ? OK : statusFailure('PUT', res.status);
      },
    });
  },
};

const LOCK_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' +
  '<D:locktype><D:write/></D:locktype><D:owner><D:href>keepdav-bench</D:href></D:owner></D:lockinfo>';

const LOCK_CONCURRENCY = 16;

/** `<token>` whether or not the server put the angle brackets in its Lock-Token header. */
function codedToken(header: string | string[] | undefined): string | null {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!raw) return null;
  return raw.startsWith('<') ? raw : `<${raw}>`;
}

export const lockUnlockRow: RowDefinition = {
  name: 'lock-unlock',
  label: 'LOCK+UNLOCK pair (16 conc.)',
  unit: 'pairs/s',
  run(ctx) {
    // Worker w cycles through files w, w+16, w+32...: no two workers ever touch the same file.
    const filesPerWorker = Math.floor(LOCK_FILE_COUNT / LOCK_CONCURRENCY);
    const turns = new Array<number>(LOCK_CONCURRENCY).fill(0);
    return measure(lockUnlockRow, ctx, {
      concurrency: LOCK_CONCURRENCY,
      maxOps: 1_000_000,
      async operation(agent, worker) {
        const index = worker + LOCK_CONCURRENCY * (turns[worker]++ % filesPerWorker);
        const url = new URL(`${FIXTURE.lockDir}${lockFileName(index)}`, ctx.baseUrl);
        const lock = await sendRequest({
          agent,
          method: 'LOCK',
          url,
          headers: { Depth: '0', Timeout: 'Second-60', 'Content-Type': 'application/xml; charset=utf-8' },
          body: LOCK_BODY,
        });
        if (lock.status !== 200) return statusFailure('LOCK', lock.status);
        const token = codedToken(lock.headers['lock-token']);
        if (!token) return fail('LOCK without Lock-Token');
        const unlock = await sendRequest({ agent, method: 'UNLOCK', url, headers: { 'Lock-Token': token } });
        return unlock.status === 204 ? OK : statusFailure('UNLOCK', unlock.status);
      },
    });
  },
};
