/**
 * The access log as an operator reads it: JSON lines (pino), one per request, with request id
 * (taken from X-Request-Id or generated, echoed), client, method, path, status, bytes, duration,
 * user agent, the stable code of an error; and no secret (a password, a full lock token) in it.
 * A request the client cut short is logged with the status it got (or 499 for none), never as
 * an internal error nor as the 200 node:http presumes before an answer.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { lineLogger } from '../../src/logging/logger';
import { connect } from 'node:net';
import { send } from '../support/testServer';

let base: string;
let server: RunningServer;
const lines: string[] = [];

const LOCK_BODY = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
const PASSWORD = 'hunter2-Very-Secret';
const BASIC = 'Basic ' + Buffer.from(`alice:${PASSWORD}`).toString('base64');

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keepdav-log-'));
  await mkdir(join(base, 'root'));
  server = await startServer(resolveConfig({ root: join(base, 'root'), stateDir: join(base, 'state'), port: 0 }), lineLogger((l) => lines.push(l)));
});

afterAll(async () => {
  await server.close(1000);
  await rm(base, { recursive: true, force: true });
});

/** The parsed access lines (every line must be JSON). */
function accessLines(): Array<Record<string, unknown>> {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.kind === 'access');
}

/** The access line of the request that answered with `reqId`, once the server wrote it. */
async function lineOf(reqId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const found = accessLines().find((o) => o.reqId === reqId);
    if (found) return found;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no access line for ${reqId}; log: ${lines.join('\n')}`);
}

describe('access log', () => {
  it('writes one JSON line per request with the fields an operator needs, and echoes X-Request-Id', async () => {
    const put = await send(server.port, undefined, 'PUT', '/report.txt', {
      body: 'twelve bytes',
      headers: { 'X-Request-Id': 'trace-42', 'User-Agent': 'log-test/1.0', Authorization: BASIC },
    });
    expect(put.status).toBe(201);
    expect(put.headers['x-request-id']).toBe('trace-42');
    const line = await lineOf('trace-42');
    expect(line).toMatchObject({ level: 'info', method: 'PUT', path: '/report.txt', status: 201, client: '127.0.0.1', userAgent: 'log-test/1.0' });
    expect(typeof line.time).toBe('string');
    expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
    expect(line.bytesIn as number).toBeGreaterThan(12); // the body and the request head
    expect(line.bytesOut as number).toBeGreaterThan(0);
    expect(typeof line.durationMs).toBe('number');
    expect(line.code).toBeUndefined();

    const get = await send(server.port, undefined, 'GET', '/report.txt');
    expect(get.text).toBe('twelve bytes');
    const generated = get.headers['x-request-id'] as string;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const getLine = await lineOf(generated);
    expect(getLine.bytesOut as number).toBeGreaterThan(12);
  });

  it('refuses a forged request id (a newline or a long value) and generates one', async () => {
    const r = await send(server.port, undefined, 'GET', '/report.txt', { headers: { 'X-Request-Id': 'x'.repeat(300) } });
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names the stable code of an error answer, and never logs a password or a full lock token', async () => {
    const lock = await send(server.port, undefined, 'LOCK', '/report.txt', { body: LOCK_BODY, headers: { 'Content-Type': 'application/xml', Timeout: 'Second-600', Authorization: BASIC } });
    expect(lock.status).toBe(200);
    const token = /<(urn:uuid:[^>]+)>/.exec(lock.headers['lock-token'] as string)![1];
    const refused = await send(server.port, undefined, 'PUT', '/report.txt', { body: 'x', headers: { Authorization: BASIC } });
    expect(refused.status).toBe(423);
    const refusedLine = await lineOf(refused.headers['x-request-id'] as string);
    expect(refusedLine).toMatchObject({ status: 423, code: 'lock-token-submitted', level: 'warn' });
    const allowed = await send(server.port, undefined, 'PUT', '/report.txt', { body: 'y', headers: { If: `(<${token}>)`, 'Lock-Token': `<${token}>`, Authorization: BASIC, Cookie: `session=${PASSWORD}` } });
    expect(allowed.status).toBe(204);
    const unlock = await send(server.port, undefined, 'UNLOCK', '/report.txt', { headers: { 'Lock-Token': `<${token}>` } });
    expect(unlock.status).toBe(204);
    await lineOf(unlock.headers['x-request-id'] as string);

    const all = lines.join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(BASIC.slice(6));
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.slice('urn:uuid:'.length));
  });

  /** Sends `head` and `bodyPart` (less than the head's Content-Length) with X-Request-Id `reqId`, then closes: half (end) or hard (destroy). */
  async function cutShort(reqId: string, head: string, bodyPart: string, close: 'end' | 'destroy'): Promise<string> {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(`${head}\r\nHost: localhost\r\nX-Request-Id: ${reqId}\r\n\r\n${bodyPart}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server is reading the body meanwhile
    if (close === 'end') socket.end();
    else socket.destroy();
    await closed;
    return answer;
  }

  it('logs a PROPPATCH whose body broke off as the 400 it got, not as an internal error', async () => {
    const answer = await cutShort('cut-proppatch', 'PROPPATCH /report.txt HTTP/1.1\r\nContent-Type: application/xml\r\nContent-Length: 400', '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:">', 'end');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await lineOf('cut-proppatch')).toMatchObject({ method: 'PROPPATCH', status: 400, level: 'warn' });
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });

  it('logs a PUT the client abandoned as the 400 it answered (or 499 when the connection closed first), one whose body broke off as the 400 it got', async () => {
    await cutShort('cut-hard', 'PUT /abandoned.txt HTTP/1.1\r\nContent-Length: 1000', 'only a little', 'destroy');
    const hard = await lineOf('cut-hard');
    expect(hard).toMatchObject({ method: 'PUT', aborted: true, level: 'warn' });
    expect([400, 499]).toContain(hard.status); // never the 200 node:http presumes
    const answer = await cutShort('cut-half', 'PUT /abandoned.txt HTTP/1.1\r\nContent-Length: 1000', 'only a little', 'end');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await lineOf('cut-half')).toMatchObject({ method: 'PUT', status: 400 });
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });

  it('logs a method keepdav does not implement at warn: the 501 is the client\'s', async () => {
    const r = await send(server.port, undefined, 'PATCH', '/report.txt', { body: 'x' });
    expect(r.status).toBe(501);
    expect(await lineOf(r.headers['x-request-id'] as string)).toMatchObject({ status: 501, code: 'unsupported-method', level: 'warn' });
  });
});
