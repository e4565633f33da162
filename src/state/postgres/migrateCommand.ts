/**
 * `keepdav migrate --state postgres://user@host/db`: brings the shared state database's schema up
 * to date (schema.ts) without starting a server; `serve` does the same at start. Safe beside
 * running instances and other migrations (it holds the migration advisory lock).
 */
import { connect, openPool } from './connection';
import { redactUrl, StateUnavailableError } from './stateUrl';
import { migrate, MIGRATIONS } from './schema';

/** Returns the exit code: 0 migrated or up to date, 1 the database refused or could not be reached. */
export async function migrateCommand(url: string, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const pool = openPool(url, 1, 'keepdav migrate');
  try {
    const client = await connect(pool);
    try {
      const applied = await migrate(client);
      const newest = Math.max(...MIGRATIONS.map((m) => m.version));
      out(applied.length > 0 ? `migrated ${redactUrl(url)} to schema version ${newest} (applied ${applied.join(', ')})` : `${redactUrl(url)} is at schema version ${newest}, nothing to do`);
      return 0;
    } finally {
      client.release();
    }
  } catch (e) {
    const cause = e instanceof StateUnavailableError ? e.cause : e;
    err(`keepdav: --state ${redactUrl(url)}: ${(cause as Error)?.message ?? String(cause)}`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
