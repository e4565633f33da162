/**
 * The access log: one line per request, always on (the old `--access-log` flag is still
 * accepted). Fields: time, reqId, client, user, method, path, status, bytesIn, bytesOut,
 * durationMs, userAgent, and `code` for error answers. Server errors (5xx) are logged at level
 * error, client errors at warn, the rest at info.
 */
import { jsonLineWriter, type Logger } from './logger';
import type { RequestObserver } from '../http/edge';
import type { AccessEntry } from '../http/accessEntry';

export function accessLog(logger: Logger): RequestObserver {
  const writeLine = jsonLineWriter(logger.child({ kind: 'access' }));
  return {
    requestStarted() {},
    requestFinished(entry: AccessEntry) {
      const level = entry.status >= 500 ? 'error' : entry.status >= 400 ? 'warn' : 'info';
      writeLine(level, accessFields(entry), `${entry.method} ${entry.path} ${entry.status}`);
    },
  };
}

/**
 * The entry's fields as JSON text, in AccessEntry's order, absent ones left out (as pino leaves out
 * undefined): one template instead of pino's walk over the object. No field carries a secret.
 */
function accessFields(e: AccessEntry): string {
  const text = JSON.stringify;
  return `,"reqId":${text(e.reqId)},"client":${text(e.client)}${e.user === undefined ? '' : `,"user":${text(e.user)}`}` +
    `,"method":${text(e.method)},"path":${text(e.path)},"status":${e.status},"bytesIn":${e.bytesIn},"bytesOut":${e.bytesOut}` +
    `,"durationMs":${Number.isFinite(e.durationMs) ? e.durationMs : null}` +
    `${e.userAgent === undefined ? '' : `,"userAgent":${text(e.userAgent)}`}${e.code === undefined ? '' : `,"code":${text(e.code)}`}` +
    `${e.aborted === undefined ? '' : `,"aborted":${e.aborted}`}`;
}
