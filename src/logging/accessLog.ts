/**
 * The access log: one line per request, always on (the old `--access-log` flag is still
 * accepted). Fields: time, reqId, client, user, method, path, status, bytesIn, bytesOut,
 * durationMs, userAgent, and `code` for error answers. Server errors (5xx) are logged at level
 * error, client errors at warn, the rest at info.
 */
import type { Logger } from './logger';
import type { RequestObserver } from '../http/edge';
import type { AccessEntry } from '../http/accessEntry';

export function accessLog(logger: Logger): RequestObserver {
  const log = logger.child({ kind: 'access' });
  return {
    requestStarted() {},
    requestFinished(entry: AccessEntry) {
      const level = entry.status >= 500 ? 'error' : entry.status >= 400 ? 'warn' : 'info';
      log[level](entry, `${entry.method} ${entry.path} ${entry.status}`);
    },
  };
}
