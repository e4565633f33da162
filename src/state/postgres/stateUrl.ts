/**
 * What the rest of keepdav needs to know about a PostgreSQL state without loading the client
 * (`pg` alone adds about 15 MiB to the resident memory of a server that never uses it): whether a
 * `--state` value names a database, how to show its URL, and the error of an unreachable one.
 */

/** The state database cannot be reached now (down, restarting, network); callers may retry later. */
export class StateUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the state database is unreachable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StateUnavailableError';
  }
}

/** True for `postgres://` and `postgresql://` URLs (the `--state` value naming a database). */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
