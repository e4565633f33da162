/**
 * The access log writes its line itself (jsonLineWriter) instead of through pino's serializer: the
 * line must be the one pino writes for the same entry, field for field and byte for byte (the time
 * aside), must follow the logger's level, and must read the same in the pretty format.
 */
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessLog } from '../../../src/logging/accessLog';
import { createLogging, lineLogger } from '../../../src/logging/logger';
import type { AccessEntry } from '../../../src/http/accessEntry';

const ENTRIES: AccessEntry[] = [
  { reqId: 'trace-1', client: '127.0.0.1', method: 'GET', path: '/small.bin', status: 200, bytesIn: 83, bytesOut: 4506, durationMs: 0.412, userAgent: 'curl/7.88.1' },
  {
    reqId: 'a1b2', client: '::1', user: 'alice', method: 'PUT', path: '/dir/a "quoted" \\ back\tslash?x=%22', status: 412,
    bytesIn: 0, bytesOut: 634, durationMs: 12, userAgent: 'odd\u0001agent\u00e9\u00ff', code: 'precondition-failed', aborted: true,
  },
  { reqId: 'x', client: '', method: 'PROPFIND', path: '/', status: 503, bytesIn: 1, bytesOut: 2, durationMs: NaN, code: 'state-unavailable' },
  { reqId: 'y', client: '10.0.0.1', user: undefined, method: 'LOCK', path: '/l', status: 423, bytesIn: 5, bytesOut: 6, durationMs: 1.5, userAgent: undefined, code: undefined, aborted: undefined },
  { reqId: 'z', client: '10.0.0.2', method: 'TRACE', path: '/', status: 501, bytesIn: 30, bytesOut: 600, durationMs: 0.2, code: 'unsupported-method' },
  { reqId: 'w', client: '10.0.0.2', method: 'PUT', path: '/cut', status: 499, bytesIn: 300, bytesOut: 0, durationMs: 1500, aborted: true },
];

/** 5xx at error, but the client's own 501, 502 and 505 at warn, with the 4xx. */
const levelOf = (status: number) => (status >= 500 && ![501, 502, 505].includes(status) ? 'error' : status >= 400 ? 'warn' : 'info');
const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '');

test.each(ENTRIES.map((entry) => [entry.method, entry] as const))('the %s line is the one pino writes for the entry', (_method, entry) => {
  const ours: string[] = [];
  const pinos: string[] = [];
  accessLog(lineLogger((line) => ours.push(line))).requestFinished(entry);
  lineLogger((line) => pinos.push(line)).child({ kind: 'access' })[levelOf(entry.status)](entry, `${entry.method} ${entry.path} ${entry.status}`);
  expect(ours).toHaveLength(1);
  expect(withoutTime(ours[0])).toBe(withoutTime(pinos[0]));
  const parsed = JSON.parse(ours[0]) as Record<string, unknown>;
  expect(parsed).toMatchObject({ level: levelOf(entry.status), kind: 'access', reqId: entry.reqId, path: entry.path, status: entry.status, pid: process.pid });
  expect(Number.isNaN(Date.parse(parsed.time as string))).toBe(false);
});

test('follows the logger level: at warn, successes are not written and errors are', () => {
  const lines: string[] = [];
  const observer = accessLog(lineLogger((line) => lines.push(line), 'warn'));
  observer.requestFinished(ENTRIES[0]);
  expect(lines).toEqual([]);
  observer.requestFinished(ENTRIES[1]);
  observer.requestFinished(ENTRIES[2]);
  observer.requestFinished(ENTRIES[4]);
  expect(lines.map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(['warn', 'error', 'warn']);
});

test('reads as a pretty line with --log-format pretty, and as JSON in a log file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keepdav-accesslog-'));
  try {
    for (const format of ['pretty', 'json'] as const) {
      const file = join(dir, `${format}.log`);
      const logging = createLogging({ format, level: 'info', file });
      accessLog(logging.logger).requestFinished(ENTRIES[1]);
      logging.reopenLogFile(); // flushes what is pending
      const text = await readFile(file, 'utf8');
      if (format === 'json') {
        expect(JSON.parse(text)).toMatchObject({ kind: 'access', user: 'alice', code: 'precondition-failed', aborted: true });
      } else {
        expect(text).toMatch(/WARN.*PUT \/dir\/a "quoted" \\ back\tslash\?x=%22 412/);
        expect(text).toContain('precondition-failed');
        expect(text).not.toMatch(/^\{/);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a log file that cannot be reopened (its folder moved away by logrotate) is an error the caller reports, and the log goes on into the open file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keepdav-accesslog-'));
  try {
    await mkdir(join(dir, 'logs'));
    const file = join(dir, 'logs', 'k.log');
    const logging = createLogging({ format: 'json', level: 'info', file });
    accessLog(logging.logger).requestFinished(ENTRIES[0]);
    await rename(join(dir, 'logs'), join(dir, 'logs.old'));
    expect(() => logging.reopenLogFile()).toThrow(/ENOENT/);
    accessLog(logging.logger).requestFinished(ENTRIES[1]);
    await mkdir(join(dir, 'logs'));
    logging.reopenLogFile(); // flushes into the old file, then opens a new one
    const old = (await readFile(join(dir, 'logs.old', 'k.log'), 'utf8')).trim().split('\n');
    expect(old.map((line) => (JSON.parse(line) as { reqId: string }).reqId)).toEqual([ENTRIES[0].reqId, ENTRIES[1].reqId]);
    accessLog(logging.logger).requestFinished(ENTRIES[2]);
    logging.reopenLogFile();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ reqId: ENTRIES[2].reqId });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
