/**
 * The retention index over PostgreSQL. Pending rows belong to the instance that wrote them
 * (`instance_id`): `pending()` answers only this instance's own, those of dead instances it adopted
 * included (lease.ts), so a live instance never settles another live instance's write in progress.
 */
import type { PathNewest, RetentionRecords, RetentionRow } from '../stateStore';
import type { DavPath } from '../../paths/davPath';
import { subtreeBounds } from '../subtree';
import type { Sql } from './connection';
import type { Atomic } from './lockRecords';
import { RETENTION_TOTALS_SQL } from './retentionTotals';
import { RETENTION_COLUMNS as COLUMNS, toRetentionRow as toRow, type RetentionTableRow as Row } from '../tableRows';

const LISTED = "reason <> 'pending'";

export function retentionRecords(sql: Sql, atomic: Atomic, instanceId: string): RetentionRecords {
  // One statement for any number of rows (a deleted tree's files): one addition to the totals (migration 7).
  const insert = (q: Sql, rows: readonly RetentionRow[]) =>
    q.count(
      `INSERT INTO retained_versions (${COLUMNS}, instance_id)
       SELECT ${COLUMNS}, instance_id FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[], $5::text[], $6::float8[], $7::text[],
           $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[]) WITH ORDINALITY
         AS r(${COLUMNS}, instance_id, n)
       ORDER BY n`,
      [rows.map((r) => r.id), rows.map((r) => r.path), rows.map((r) => r.retainedAtMs), rows.map((r) => r.size), rows.map((r) => r.etag),
        rows.map((r) => r.mtimeMs), rows.map((r) => r.reason), rows.map((r) => r.storage), rows.map((r) => r.pendingReason),
        rows.map((r) => r.sourceIno), rows.map((r) => r.pendingKind), rows.map((r) => r.intentId), rows.map((r) => r.properties ?? null),
        rows.map((r) => (r.reason === 'pending' ? instanceId : null))],
    );
  // Kept by the database on every change (migration 7, retentionTotals.ts): no pass over the rows.
  const totals = async () => {
    const [row] = await sql.rows<{ count: number; bytes: number }>(RETENTION_TOTALS_SQL);
    return { count: row.count, bytes: row.bytes };
  };
  const select = async (where: string, values: readonly unknown[] = []) => (await sql.rows<Row>(`SELECT ${COLUMNS} FROM retained_versions WHERE ${where}`, values)).map(toRow);
  return {
    async insert(row) {
      await insert(sql, [row]);
    },
    replace(pendingId, rows) {
      return atomic(async (tx) => {
        await tx.count('DELETE FROM retained_versions WHERE id = $1', [pendingId]);
        if (rows.length > 0) await insert(tx, rows);
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
    async removeBeyondNewest(path, keep) {
      // READ COMMITTED: a row another instance removed first is skipped here, so each is returned once.
      const rows = await sql.rows<Row>(
        `DELETE FROM retained_versions WHERE id IN (SELECT id FROM retained_versions WHERE path = $1 AND ${LISTED}
           ORDER BY retained_at DESC, seq DESC OFFSET $2) RETURNING ${COLUMNS}`,
        [path, keep],
      );
      return rows.map(toRow);
    },
    listUnder(path) {
      const b = subtreeBounds(path);
      return select(`(path = $1 OR (path >= $2 AND path < $3)) AND ${LISTED} ORDER BY path, retained_at DESC, seq DESC`, [b.path, b.lower, b.upper]);
    },
    async newestUnder(path, limit, after?: PathNewest) {
      const b = subtreeBounds(path);
      const rows = await sql.rows<{ path: string; newest: number }>(
        `SELECT path, max(retained_at) AS newest FROM retained_versions WHERE (path = $1 OR (path >= $2 AND path < $3)) AND ${LISTED}
         GROUP BY path HAVING $4::float8 IS NULL OR max(retained_at) < $4 OR (max(retained_at) = $4 AND path > $5)
         ORDER BY newest DESC, path LIMIT $6`,
        [b.path, b.lower, b.upper, after?.retainedAtMs ?? null, after?.path ?? null, limit],
      );
      return rows.map((r) => ({ path: r.path as DavPath, retainedAtMs: r.newest }));
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
    totals,
    async keptBytes() {
      return (await totals()).bytes;
    },
    async moveSubtree(from, to) {
      const b = subtreeBounds(from);
      await sql.count('UPDATE retained_versions SET path = $4 || substr(path, length($1) + 1) WHERE path = $1 OR (path >= $2 AND path < $3)', [b.path, b.lower, b.upper, to]);
    },
  };
}
