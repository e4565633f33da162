/**
 * The access log: one line per request, always on (the old `--access-log` flag is still
 * accepted). Fields: time, reqId, client, user, method, path, status, bytesIn, bytesOut,
 * durationMs, userAgent, and `code` for error answers. Server errors (5xx) are logged at level
 * error, client errors at warn, the rest at info; but the three 5xx a request earns by asking for
 * what keepdav does not do (501 a method, 502 a Destination on another server, RFC 4918 §9.8.5,
 * 505 an HTTP version) are the client's, at warn, so that error lines mean the server needs a look.
 */
import { jsonLineWriter, type Logger } from './logger';
import type { RequestObserver } from '../http/edge';
import type { AccessEntry } from '../http/accessEntry';

/** 5xx answers to requests for what keepdav does not do: logged at warn. */
const ASKED_FOR_THE_UNSUPPORTED = new Set([501, 502, 505]);

export function accessLog(logger: Logger): RequestObserver {
  const writeLine = jsonLineWriter(logger.child({ kind: 'access' }));
  return {
    requestStarted() {},
    requestFinished(entry: AccessEntry) {
      const level = entry.status >= 500 && !ASKED_FOR_THE_UNSUPPORTED.has(entry.status) ? 'error' : entry.status >= 400 ? 'warn' : 'info';
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
