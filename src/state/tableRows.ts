/**
 * The columns of the `versions` and `retained_versions` tables as both state-store
 * implementations (src/state/sqlite, src/state/postgres) read and write them, and their mapping to
 * the interface's records: one schema shape, mapped in one place.
 */
import type { RetentionRow, VersionRecord } from './stateStore';

/** A row of `versions` (path included when the query selects it). */
export interface VersionTableRow {
  path?: string;
  etag: string;
  ino: number;
  size: number;
  mtime_ms: number;
  sha1: string | null;
  md5: string | null;
}

export const toVersionRecord = (r: VersionTableRow): VersionRecord => ({ etag: r.etag, ino: r.ino, size: r.size, mtimeMs: r.mtime_ms, sha1: r.sha1, md5: r.md5 });

/** The columns of `retained_versions` every query names, in this order. */
export const RETENTION_COLUMNS = 'id, path, retained_at, size, etag, mtime_ms, reason, storage, pending_reason, source_ino, pending_kind, intent_id, properties';

/** A row of `retained_versions`. */
export interface RetentionTableRow {
  id: string;
  path: string;
  retained_at: number;
  size: number;
  etag: string;
  mtime_ms: number;
  reason: RetentionRow['reason'];
  storage: string;
  pending_reason: RetentionRow['pendingReason'];
  source_ino: number | null;
  pending_kind: RetentionRow['pendingKind'];
  intent_id: number | null;
  properties: string | null;
}

export const toRetentionRow = (r: RetentionTableRow): RetentionRow => ({
  id: r.id, path: r.path, retainedAtMs: r.retained_at, size: r.size, etag: r.etag, mtimeMs: r.mtime_ms, reason: r.reason, storage: r.storage,
  pendingReason: r.pending_reason, sourceIno: r.source_ino, pendingKind: r.pending_kind, intentId: r.intent_id, properties: r.properties,
});

export const toRetentionTableRow = (r: RetentionRow): RetentionTableRow => ({
  id: r.id, path: r.path, retained_at: r.retainedAtMs, size: r.size, etag: r.etag, mtime_ms: r.mtimeMs, reason: r.reason, storage: r.storage,
  pending_reason: r.pendingReason, source_ino: r.sourceIno, pending_kind: r.pendingKind, intent_id: r.intentId, properties: r.properties ?? null,
});
