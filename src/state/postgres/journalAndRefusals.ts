/**
 * The intent journal and the stale-upload refusals over PostgreSQL. Intents belong to the
 * instance that recorded them: `pending()` answers this instance's own (and those it adopted from
 * a dead instance, lease.ts), never a live neighbour's step in progress. Refusals and deletions
 * are shared, so rclone's clean-up DELETE through another instance is refused too; their times
 * are the database clock's.
 */
import type { Intent, IntentJournalRecords, RefusalRecords, WriteRefusal, DeletedFile } from '../stateStore';
import type { Sql } from './connection';

export function journalRecords(sql: Sql, instanceId: string): IntentJournalRecords {
  return {
    async record(intent) {
      const [row] = await sql.rows<{ id: number }>(
        'INSERT INTO intents (instance_id, op, src, dst, depth, mtime_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [instanceId, intent.op, intent.src, intent.dst, intent.depth, intent.mtime_ms],
      );
      return row.id;
    },
    async complete(id) {
      return (await sql.count('DELETE FROM intents WHERE id = $1', [id])) > 0;
    },
    pending() {
      return sql.rows<Intent>('SELECT id, op, src, dst, depth, mtime_ms FROM intents WHERE instance_id = $1 ORDER BY id', [instanceId]);
    },
  };
}

export function refusalRecords(sql: Sql): RefusalRecords {
  return {
    async recordRefusal(path, clientId, refusal) {
      await sql.count(
        `INSERT INTO write_refusals (client_id, path, code, status, at_ms) VALUES ($1, $2, $3, $4, keepdav_now_ms())
         ON CONFLICT (client_id, path) DO UPDATE SET code = excluded.code, status = excluded.status, at_ms = excluded.at_ms`,
        [clientId, path, refusal.code, refusal.status],
      );
    },
    async refusalOf(path, clientId) {
      const rows = await sql.rows<{ code: string; status: number; at_ms: number }>('SELECT code, status, at_ms FROM write_refusals WHERE client_id = $1 AND path = $2', [clientId, path]);
      return rows.length > 0 ? ({ code: rows[0].code, status: rows[0].status, atMs: rows[0].at_ms } satisfies WriteRefusal) : null;
    },
    async rearmRefusal(path, clientId) {
      await sql.count('UPDATE write_refusals SET at_ms = keepdav_now_ms() WHERE client_id = $1 AND path = $2', [clientId, path]);
    },
    async recordDeletion(path, clientId, file) {
      await sql.count(
        `INSERT INTO recent_deletions (client_id, path, etag, mtime_ms, size, at_ms) VALUES ($1, $2, $3, $4, $5, keepdav_now_ms())
         ON CONFLICT (client_id, path) DO UPDATE SET etag = excluded.etag, mtime_ms = excluded.mtime_ms, size = excluded.size, at_ms = excluded.at_ms`,
        [clientId, path, file.etag, file.mtimeMs, file.size],
      );
    },
    async deletionOf(path, clientId) {
      const rows = await sql.rows<{ etag: string | null; mtime_ms: number; size: number; at_ms: number }>(
        'SELECT etag, mtime_ms, size, at_ms FROM recent_deletions WHERE client_id = $1 AND path = $2',
        [clientId, path],
      );
      return rows.length > 0 ? ({ etag: rows[0].etag, mtimeMs: rows[0].mtime_ms, size: rows[0].size, atMs: rows[0].at_ms } satisfies DeletedFile) : null;
    },
    async settle(path, clientId) {
      await sql.count(
        `WITH refusal AS (DELETE FROM write_refusals WHERE client_id = $1 AND path = $2)
         DELETE FROM recent_deletions WHERE client_id = $1 AND path = $2`,
        [clientId, path],
      );
    },
    async forgetBefore(cutoffMs) {
      const [row] = await sql.rows<{ n: number }>(
        `WITH r AS (DELETE FROM write_refusals WHERE at_ms < $1 RETURNING 1), d AS (DELETE FROM recent_deletions WHERE at_ms < $1 RETURNING 1)
         SELECT ((SELECT count(*) FROM r) + (SELECT count(*) FROM d))::bigint AS n`,
        [cutoffMs],
      );
      return row.n;
    },
  };
}
