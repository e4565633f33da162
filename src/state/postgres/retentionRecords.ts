/**
 * The retention index over PostgreSQL. Pending rows belong to the instance that wrote them
 * (`instance_id`): `pending()` answers only this instance's own, those of dead instances it adopted
 * included (lease.ts), so a live instance never settles another live instance's write in progress.
 */
import type { RetentionRecords, RetentionRow } from '../stateStore';
import type { DavPath } from '../../paths/davPath';
import { subtreeBounds } from '../subtree';
import type { Sql } from './connection';
import type { Atomic } from './lockRecords';
import { RETENTION_COLUMNS as COLUMNS, toRetentionRow as toRow, type RetentionTableRow as Row } from '../tableRows';

const LISTED = "reason <> 'pending'";

export function retentionRecords(sql: Sql, atomic: Atomic, instanceId: string): RetentionRecords {
  const insert = (q: Sql, r: RetentionRow) =>
    q.count(
      `INSERT INTO retained_versions (${COLUMNS}, instance_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [r.id, r.path, r.retainedAtMs, r.size, r.etag, r.mtimeMs, r.reason, r.storage, r.pendingReason, r.sourceIno, r.pendingKind, r.intentId,
        r.reason === 'pending' ? instanceId : null],
    );
  const select = async (where: string, values: readonly unknown[] = []) => (await sql.rows<Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE ${where}`, values)).map(toRow);
  return {
    async insert(row) {
      await insert(sql, row);
    },
    replace(pendingId, rows) {
      return atomic(async (tx) => {
        await tx.count('DELETE FROM retained_versions WHERE id = $1', [pendingId]);
        for (const row of rows) await insert(tx, row);
      });
    },
    async commit(id) {
      const n = await sql.count(
        `UPDATE retained_versions SET reason = COALESCE(pending_reason, 'overwrite'), pending_reason = NULL, pending_kind = NULL,
           source_ino = NULL, intent_id = NULL, instance_id = NULL WHERE id = $1 AND reason = 'pending'`,
        [id],
      );
      return n > 0;
    },
    async get(id) {
      return (await select('id = $1', [id]))[0] ?? null;
    },
    async remove(id) {
      const rows = await sql.rows<Row>(`DELETE FROM retained_versions WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      return rows.length > 0 ? toRow(rows[0]) : null;
    },
    list(path) {
      return select(`path = $1 AND ${LISTED} ORDER BY retained_at DESC, seq DESC`, [path]);
    },
    listUnder(path) {
      const b = subtreeBounds(path);
      return select(`(path = $1 OR (path >= $2 AND path < $3)) AND ${LISTED} ORDER BY path, retained_at DESC, seq DESC`, [b.path, b.lower, b.upper]);
    },
    listAll() {
      return select(`${LISTED} ORDER BY seq`);
    },
    async listedPaths() {
      return (await sql.rows<{ path: string }>(`SELECT DISTINCT path FROM retained_versions WHERE ${LISTED}`)).map((r) => r.path as DavPath);
    },
    pending() {
      return select(`reason = 'pending' AND instance_id = $1 ORDER BY seq`, [instanceId]);
    },
    pendingOfIntent(intentId) {
      return select(`reason = 'pending' AND intent_id = $1 ORDER BY seq`, [intentId]);
    },
    async storagePaths() {
      return new Set((await sql.rows<{ storage: string }>('SELECT storage FROM retained_versions')).map((r) => r.storage));
    },
    async idsOlderThan(cutoffMs) {
      return (await sql.rows<{ id: string }>(`SELECT id FROM retained_versions WHERE retained_at < $1 AND ${LISTED} ORDER BY seq`, [cutoffMs])).map((r) => r.id);
    },
    oldest(limit) {
      return select(`${LISTED} ORDER BY retained_at, seq LIMIT $1`, [limit]);
    },
    async totals() {
      const [row] = await sql.rows<{ count: number; bytes: number }>(
        `SELECT count(*) FILTER (WHERE ${LISTED})::bigint AS count, COALESCE(sum(size), 0)::bigint AS bytes FROM retained_versions`,
      );
      return { count: row.count, bytes: row.bytes };
    },
    async moveSubtree(from, to) {
      const b = subtreeBounds(from);
      await sql.count('UPDATE retained_versions SET path = $4 || substr(path, length($1) + 1) WHERE path = $1 OR (path >= $2 AND path < $3)', [b.path, b.lower, b.upper, to]);
    },
  };
}
