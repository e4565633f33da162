/**
 * Migration 6 of the shared schema (schema.ts): the statements on the lock table, as functions
 * that look locks up through one index each, whatever the planner's statistics say.
 *
 * Every LOCK inserts a row and its UNLOCK deletes it, so a busy table holds thousands of dead row
 * versions between two autovacuum runs (a minute apart by default, and the server's setting, not
 * ours). The planner then misjudges the table: its statistics still count the few live rows while
 * the table and its indexes have grown, so an index scan looks dearer than a sequential scan,
 * which reads every dead version on every call; and an OR of index conditions becomes a bitmap
 * scan, which visits every dead index entry of the path on every call. Only a plain index scan
 * marks the dead entries it meets, so that the next scan skips them (and PostgreSQL 14's
 * bottom-up deletion then removes them).
 *
 * Measured with pgbench, one client locking and unlocking one file: a pair took 0.67 ms, then
 * 0.82 and 0.94 ms in the next two 5 s runs (the generic UNLOCK plan had become a sequential scan
 * of 134 pages), against 0.55-0.57 ms throughout with these functions.
 *
 * So each statement is split into conditions an index answers alone (an OR becomes UNION ALL),
 * and each function plans with sequential and bitmap scans off, one generic plan per connection
 * (plan_cache_mode, as migration 5 explains). The table holds the live locks only, so no scan of
 * it can be large.
 */
import type { Migration } from './schema';
import { ADVISORY_NAMESPACE } from './advisoryLocks';

/** A row of `table` (or its alias) that has not expired at `now` (SQL, ms): the one definition of a live lock. */
export const liveLockAt = (table: string, now = 'keepdav_now_ms()') => `(${table}.expires_at_ms IS NULL OR ${table}.expires_at_ms > ${now})`;
const PLANNED = 'SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off';

export const LOCK_STATEMENTS_MIGRATION: Migration = {
  version: 6,
  name: 'lock statements through one index each',
  sql: `
-- The conflict check of keepdav_lock_grant (migration 2), its three cases each through locks_root:
-- a lock on the root itself, a depth-infinity lock on an ancestor, and for a depth-infinity
-- request a lock below the root (RFC 4918 §6.1, §9.10.3; shared meets shared freely).
CREATE OR REPLACE FUNCTION keepdav_lock_grant(p_token TEXT, p_root TEXT, p_scope TEXT, p_depth TEXT, p_owner TEXT,
    p_timeout DOUBLE PRECISION, p_principal TEXT, p_ancestors TEXT[], p_lower TEXT, p_upper TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql VOLATILE ${PLANNED} AS $$
DECLARE
  n DOUBLE PRECISION;
  found_row locks;
BEGIN
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.transaction}, 0);
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.lockTable}, 0);
  n := keepdav_now_ms();
  SELECT * INTO found_row FROM (
      SELECT * FROM locks WHERE root = p_root COLLATE "C"
      UNION ALL SELECT * FROM locks WHERE root = ANY(p_ancestors) AND depth = 'infinity'
      UNION ALL SELECT * FROM locks WHERE p_depth = 'infinity'
                                      AND root >= p_lower COLLATE "C" AND root < p_upper COLLATE "C" AND root <> p_root COLLATE "C") l
   WHERE ${liveLockAt('l', 'n')} AND NOT (l.scope = 'shared' AND p_scope = 'shared')
   ORDER BY length(l.root), l.seq LIMIT 1;
  IF FOUND THEN
    RETURN NEXT found_row;
    RETURN;
  END IF;
  RETURN QUERY INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms, principal)
    VALUES (p_token, p_root, p_scope, p_depth, p_owner, p_timeout,
            CASE WHEN p_timeout IS NULL THEN NULL ELSE n + p_timeout * 1000 END, n, p_principal)
    RETURNING *;
END
$$;

-- The live locks covering any of p_paths: on a path itself, or depth infinity on one of
-- p_ancestors (given without the paths), in grant order from the shallowest.
CREATE FUNCTION keepdav_locks_covering(p_paths TEXT[], p_ancestors TEXT[])
  RETURNS SETOF locks LANGUAGE plpgsql STABLE ${PLANNED} AS $$
BEGIN
  RETURN QUERY SELECT l.* FROM (
      SELECT * FROM locks WHERE root = ANY(p_paths)
      UNION ALL SELECT * FROM locks WHERE root = ANY(p_ancestors) AND depth = 'infinity' AND NOT (root = ANY(p_paths))) l
   WHERE ${liveLockAt('l')}
   ORDER BY length(l.root), l.seq;
END
$$;

-- The live locks rooted at p_path or below it (p_lower, p_upper: subtree.ts), p_path's first.
CREATE FUNCTION keepdav_locks_within(p_path TEXT, p_lower TEXT, p_upper TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql STABLE ${PLANNED} AS $$
BEGIN
  RETURN QUERY SELECT l.* FROM (
      SELECT * FROM locks WHERE root = p_path COLLATE "C"
      UNION ALL SELECT * FROM locks WHERE root >= p_lower COLLATE "C" AND root < p_upper COLLATE "C" AND root <> p_path COLLATE "C") l
   WHERE ${liveLockAt('l')}
   ORDER BY (l.root = p_path) DESC, l.root, l.seq;
END
$$;

-- The live lock with this token, through the primary key.
CREATE FUNCTION keepdav_lock_by_token(p_token TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql STABLE ${PLANNED} AS $$
BEGIN
  RETURN QUERY SELECT l.* FROM locks l WHERE l.token = p_token AND ${liveLockAt('l')};
END
$$;

-- A new timeout for the live lock with this token (NULL: Infinite), counted from now.
CREATE FUNCTION keepdav_lock_refresh(p_token TEXT, p_timeout DOUBLE PRECISION)
  RETURNS SETOF locks LANGUAGE plpgsql VOLATILE ${PLANNED} AS $$
BEGIN
  RETURN QUERY UPDATE locks l SET timeout_seconds = p_timeout,
      expires_at_ms = CASE WHEN p_timeout IS NULL THEN NULL ELSE keepdav_now_ms() + p_timeout * 1000 END
    WHERE l.token = p_token AND ${liveLockAt('l')} RETURNING l.*;
END
$$;

-- Removes the live lock with this token; with p_path, only when the lock applies to p_path (on it,
-- or depth infinity on one of p_ancestors) and p_principal took it (NULL: taken anonymously).
CREATE FUNCTION keepdav_lock_release(p_token TEXT, p_path TEXT, p_ancestors TEXT[], p_principal TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql VOLATILE ${PLANNED} AS $$
BEGIN
  RETURN QUERY DELETE FROM locks l WHERE l.token = p_token AND ${liveLockAt('l')}
      AND (p_path IS NULL OR ((l.root = p_path OR (l.depth = 'infinity' AND l.root = ANY(p_ancestors)))
                              AND l.principal IS NOT DISTINCT FROM p_principal))
    RETURNING l.*;
END
$$;
`,
};
