/**
 * Wrong input gets a clear answer, never a 500, a hang, a stack trace or a path outside the root:
 * 2,000 seeded random requests (test/support/malformedRequests.ts: junk headers, escaping and
 * undecodable targets, mutated and cut XML, broken framing), eight connections at a time. Every
 * one gets a final status; no 5xx but the three a client earns by asking for what keepdav does
 * not do (501 a method, 502 a Destination on another server, 505 a version); no error line in
 * the server's log; nothing written beside the root; and the server still answers afterwards.
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { lineLogger } from '../../src/logging/logger';
import { send } from '../support/testServer';
import { malformedRequests, type MalformedRequest } from '../support/malformedRequests';

const REQUESTS = 2000;
const AT_ONCE = 8;
const SEED = 20261206;
/** The client's side closes this long after its bytes are sent, so a body shorter than stated ends. */
const CLOSE_AFTER_MS = 150;
/**
 * A request left without a status is sent once more, closing only this late: a client that
 * closes its side before the answer has abandoned the request (node:http then drops it), which a
 * request slower than CLOSE_AFTER_MS on a busy machine (CI runs other suites beside this one)
 * would otherwise be taken for. A request the server leaves unanswered fails both times.
 */
const RETRY_CLOSE_AFTER_MS = 3000;
const HANG_MS = 5000;
/** The 5xx a request may earn by asking for what keepdav does not do. */
const CLIENTS_OWN_5XX = [501, 502, 505];

let base: string;
let server: RunningServer;
const lines: string[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-malformed-'));
  await mkdir(join(base, 'root', 'a'), { recursive: true });
  await mkdir(join(base, 'root', 'd', 'e'), { recursive: true });
  await writeFile(join(base, 'root', 'a', 'b.txt'), 'b\n');
  await writeFile(join(base, 'root', 'd', 'e', 'f.txt'), 'f\n');
  await writeFile(join(base, 'root', 'a.txt'), 'a\n');
  server = await startServer(resolveConfig({ root: join(base, 'root'), stateDir: join(base, 'state'), port: 0 }), lineLogger((l) => lines.push(l)));
});

afterAll(async () => {
  await server.close(1000);
  await rm(base, { recursive: true, force: true });
});

interface Outcome {
  request: MalformedRequest;
  /** The final status (interim 1xx answers skipped); 0 when the server closed without one. */
  status: number;
  answer: string;
  hung: boolean;
}

function exchange(request: MalformedRequest, closeAfterMs = CLOSE_AFTER_MS): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let hung = false;
    const hang = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, HANG_MS);
    const closing = setTimeout(() => socket.end(), closeAfterMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(hang);
      clearTimeout(closing);
      const answer = Buffer.concat(chunks).toString('latin1');
      const finals = [...answer.matchAll(/^HTTP\/1\.[01] (\d{3}) /gm)].map((m) => Number(m[1])).filter((s) => s >= 200);
      resolve({ request, status: finals[0] ?? 0, answer, hung });
    });
    socket.write(request.raw);
  });
}

test(`${REQUESTS} malformed requests: each a clear answer, no 5xx of keepdav's own, no error logged, nothing outside the root`, async () => {
  const next = malformedRequests(server.port, SEED);
  const outcomes: Outcome[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (sent < REQUESTS) {
        sent++;
        const request = next();
        const outcome = await exchange(request);
        outcomes.push(outcome.status === 0 && !outcome.hung ? await exchange(request, RETRY_CLOSE_AFTER_MS) : outcome);
      }
    }),
  );
  const describe = (o: Outcome) => `${o.hung ? 'no answer in 5 s' : o.status || 'no status'} for ${o.request.summary.slice(0, 300)}\n${o.answer.slice(0, 300)}`;
  expect(outcomes.filter((o) => o.hung || o.status === 0).map(describe)).toEqual([]);
  expect(outcomes.filter((o) => o.status >= 500 && !CLIENTS_OWN_5XX.includes(o.status)).map(describe)).toEqual([]);
  expect(outcomes.filter((o) => /\n\s+at .+:\d+:\d+/.test(o.answer)).map(describe)).toEqual([]);
  // Most are refused, but not all: the mix reaches the handlers, not only the parsers.
  const statuses = new Set(outcomes.map((o) => o.status));
  for (const expected of [200, 207, 400, 404, 405, 415, 423]) expect(statuses).toContain(expected);

  const errors = lines.filter((l) => (JSON.parse(l) as { level: string }).level === 'error');
  expect(errors).toEqual([]);
  expect((await readdir(base)).sort()).toEqual(['root', 'state']);
  expect((await send(server.port, undefined, 'PROPFIND', '/', { headers: { Depth: '1' } })).status).toBe(207);
}, 120_000);
