/**
 * The PostgreSQL schema of the shared state, as numbered migrations. `migrate` applies the ones a
 * database lacks, in order, each in its own transaction, under an advisory lock so that instances
 * starting together (or `keepdav migrate` beside a running server) never apply one twice. A
 * database migrated by a newer keepdav (a version this one does not know) is refused.
 *
 * Path columns are `COLLATE "C"`: they compare bytewise, so the subtree range [path/, path0) of
 * src/state/subtree.ts holds exactly the descendants (under a linguistic collation a query for /a
 * would also return /A/x and /á/y). Times the shared decisions depend on (lock expiry, recent
 * refusals, leases) are the database's (`now()`), never one host's clock.
 */
import type { ClientBase } from 'pg';
import { ADVISORY_NAMESPACE } from './advisoryLocks';
import { LOCK_STATEMENTS_MIGRATION } from './lockStatements';
import { RETENTION_TOTALS_MIGRATION } from './retentionTotals';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'state tables',
    sql: `
-- The one clock of every shared decision: the database's, in ms since the epoch. (A test clock
-- sets the session setting keepdav.now_ms on its own connections; keepdav itself never does.)
CREATE FUNCTION keepdav_now_ms() RETURNS DOUBLE PRECISION LANGUAGE sql VOLATILE
  AS $$SELECT COALESCE(NULLIF(current_setting('keepdav.now_ms', true), '')::double precision,
                       (extract(epoch FROM clock_timestamp()) * 1000)::double precision)$$;

CREATE TABLE state_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- One row per running (or dead, not yet recovered) instance; the lease is renewed by heartbeat.
CREATE TABLE instances (
  id            TEXT PRIMARY KEY,
  host          TEXT NOT NULL,
  pid           INTEGER NOT NULL,
  url           TEXT,
  started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- the key of the session advisory lock the instance holds while it lives (src/state/postgres/lease.ts)
  liveness_key  INTEGER NOT NULL UNIQUE
);
CREATE SEQUENCE instance_liveness_keys;

CREATE TABLE locks (
  token           TEXT PRIMARY KEY,
  root            TEXT COLLATE "C" NOT NULL,
  scope           TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')),
  depth           TEXT NOT NULL CHECK (depth IN ('0', 'infinity')),
  owner           TEXT,
  timeout_seconds DOUBLE PRECISION,  -- NULL: Infinite
  expires_at_ms   DOUBLE PRECISION,  -- NULL: never (database clock, ms since the epoch)
  created_at_ms   DOUBLE PRECISION NOT NULL,
  principal       TEXT,
  seq             BIGSERIAL NOT NULL  -- grant order
);
CREATE INDEX locks_root ON locks (root);

CREATE TABLE dead_properties (
  path  TEXT COLLATE "C" NOT NULL,
  ns    TEXT NOT NULL,
  local TEXT NOT NULL,
  xml   TEXT NOT NULL,
  seq   BIGSERIAL NOT NULL,
  PRIMARY KEY (path, ns, local)
);

CREATE TABLE versions (
  path     TEXT COLLATE "C" PRIMARY KEY,
  etag     TEXT NOT NULL,
  ino      BIGINT NOT NULL,
  size     BIGINT NOT NULL,
  mtime_ms DOUBLE PRECISION NOT NULL,
  sha1     TEXT,
  md5      TEXT
);

CREATE TABLE intents (
  id          BIGSERIAL PRIMARY KEY,
  instance_id TEXT NOT NULL,
  op          TEXT NOT NULL,
  src         TEXT COLLATE "C" NOT NULL,
  dst         TEXT COLLATE "C",
  depth       TEXT NOT NULL,
  mtime_ms    DOUBLE PRECISION
);
CREATE INDEX intents_instance ON intents (instance_id);

CREATE TABLE retained_versions (
  id             TEXT PRIMARY KEY,
  path           TEXT COLLATE "C" NOT NULL,
  retained_at    DOUBLE PRECISION NOT NULL,
  size           BIGINT NOT NULL,
  etag           TEXT NOT NULL,
  mtime_ms       DOUBLE PRECISION NOT NULL,
  reason         TEXT NOT NULL,
  storage        TEXT NOT NULL,
  pending_reason TEXT,
  source_ino     BIGINT,
  pending_kind   TEXT,
  intent_id      BIGINT,
  instance_id    TEXT,       -- whose pending row this is (NULL once committed)
  seq            BIGSERIAL NOT NULL
);
CREATE INDEX retained_versions_path ON retained_versions (path, retained_at);

-- COPY, MOVE and DELETE still running on some instance, one row per path it claims (a MOVE: its
-- source and its target): a write overlapping one is 423 on every instance.
CREATE TABLE tree_operations (
  id            TEXT NOT NULL,
  claim         TEXT COLLATE "C" NOT NULL,
  tree          BOOLEAN NOT NULL,
  instance_id   TEXT NOT NULL,
  method        TEXT NOT NULL,
  path          TEXT COLLATE "C" NOT NULL,  -- the operation's own path, as named in 423 answers
  started_at_ms DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (id, claim)
);

-- Stale-upload refusals and recent deletions per client (README, "No client's clean-up destroys another's save").
CREATE TABLE write_refusals (
  client_id TEXT NOT NULL,
  path      TEXT COLLATE "C" NOT NULL,
  code      TEXT NOT NULL,
  status    INTEGER NOT NULL,
  at_ms     DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (client_id, path)
);
CREATE TABLE recent_deletions (
  client_id TEXT NOT NULL,
  path      TEXT COLLATE "C" NOT NULL,
  etag      TEXT,
  mtime_ms  DOUBLE PRECISION NOT NULL,
  size      BIGINT NOT NULL,
  at_ms     DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (client_id, path)
);

CREATE TABLE readiness_probe (instance_id TEXT PRIMARY KEY, checked_at TIMESTAMPTZ NOT NULL);
`,
  },
  {
    version: 2,
    name: 'lock grant in one statement',
    sql: `
-- LOCK's conflict check and insert in one round trip (lockRecords.ts). It takes the advisory lock
-- of state transactions, then that of the lock table, both transaction-scoped, before reading: in
-- a VOLATILE plpgsql function each statement takes a fresh snapshot, so the check sees every lock
-- committed by the previous holder. Returns the new row, or the first conflicting one.
CREATE FUNCTION keepdav_lock_grant(p_token TEXT, p_root TEXT, p_scope TEXT, p_depth TEXT, p_owner TEXT,
    p_timeout DOUBLE PRECISION, p_principal TEXT, p_ancestors TEXT[], p_lower TEXT, p_upper TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n DOUBLE PRECISION;
  found_row locks;
BEGIN
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.transaction}, 0);
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.lockTable}, 0);
  n := keepdav_now_ms();
  SELECT * INTO found_row FROM locks l
   WHERE (l.expires_at_ms IS NULL OR l.expires_at_ms > n)
     AND NOT (l.scope = 'shared' AND p_scope = 'shared')
     AND (l.root = p_root COLLATE "C" OR (l.depth = 'infinity' AND l.root = ANY(p_ancestors))
          OR (p_depth = 'infinity' AND l.root >= p_lower COLLATE "C" AND l.root < p_upper COLLATE "C"))
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
`,
  },
  {
    version: 3,
    name: 'write claim in one statement',
    sql: `
-- Whether two write claims meet (pathMutex.ts): the same path, or one is a tree holding the other.
CREATE FUNCTION keepdav_claims_meet(a TEXT, a_tree BOOLEAN, b TEXT, b_tree BOOLEAN) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE AS $$
  SELECT a = b COLLATE "C"
      OR (a_tree AND (a = '/' OR starts_with(b, a || '/')))
      OR (b_tree AND (b = '/' OR starts_with(a, b || '/')))
$$;

-- A write claim across instances in one round trip (writeClaims.ts): refuse at once when a
-- running operation is in the way (no waiting behind a long MOVE), else take the session advisory
-- locks in the given order (shared on ancestors, exclusive on targets, advisoryLocks.ts), waiting
-- for each, then look again: the wait may have been behind an instance that died mid-operation,
-- whose row stands until it is recovered. Each statement of a VOLATILE function takes a fresh
-- snapshot, so the second look sees rows committed while waiting. Returns the operation in the
-- way (the caller then gives up the locks taken), or nothing when the claim is held. The looks
-- are written out (not a called SQL function) so that plpgsql keeps their plans.
CREATE FUNCTION keepdav_claim(p_keys BIGINT[], p_exclusive BOOLEAN[], p_claims TEXT[], p_trees BOOLEAN[], p_own TEXT[])
  RETURNS SETOF tree_operations LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN QUERY SELECT o.* FROM tree_operations o
   WHERE NOT (o.id = ANY(p_own))
     AND EXISTS (SELECT 1 FROM unnest(p_claims, p_trees) AS c(claim, tree) WHERE keepdav_claims_meet(c.claim, c.tree, o.claim, o.tree))
   ORDER BY o.started_at_ms, o.id LIMIT 1;
  IF FOUND THEN
    RETURN;
  END IF;
  -- One statement for all the locks, taken in the order given (unnest's, by ordinality).
  PERFORM CASE WHEN t.exclusive THEN pg_advisory_lock(t.key) ELSE pg_advisory_lock_shared(t.key) END
     FROM unnest(p_keys, p_exclusive) WITH ORDINALITY AS t(key, exclusive, n) ORDER BY t.n;
  RETURN QUERY SELECT o.* FROM tree_operations o
   WHERE NOT (o.id = ANY(p_own))
     AND EXISTS (SELECT 1 FROM unnest(p_claims, p_trees) AS c(claim, tree) WHERE keepdav_claims_meet(c.claim, c.tree, o.claim, o.tree))
   ORDER BY o.started_at_ms, o.id LIMIT 1;
END
$$;
`,
  },
  {
    version: 4,
    name: 'lock grant unless claimed',
    sql: `
-- LOCK on an existing resource without a write claim of its own, in one round trip
-- (lockRecords.ts, insertUnlessClaimedOrConflicting): keepdav_lock_grant, made only while no
-- holder of a write claim meets the given claims and no running operation overlaps them. The
-- claim's advisory locks (advisoryLocks.ts) are only tried, transaction-scoped, never waited for:
-- one that another session holds means a writer is at work there, and nothing is granted. The two
-- locks of keepdav_lock_grant are taken first, so nothing is waited for while a path lock is
-- held. Returns no row when claimed, else what keepdav_lock_grant returns.
CREATE FUNCTION keepdav_lock_grant_unclaimed(p_keys BIGINT[], p_exclusive BOOLEAN[], p_claims TEXT[], p_trees BOOLEAN[],
    p_token TEXT, p_root TEXT, p_scope TEXT, p_depth TEXT, p_owner TEXT,
    p_timeout DOUBLE PRECISION, p_principal TEXT, p_ancestors TEXT[], p_lower TEXT, p_upper TEXT)
  RETURNS SETOF locks LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t RECORD;
BEGIN
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.transaction}, 0);
  PERFORM pg_advisory_xact_lock(${ADVISORY_NAMESPACE.lockTable}, 0);
  FOR t IN SELECT u.key, u.exclusive FROM unnest(p_keys, p_exclusive) WITH ORDINALITY AS u(key, exclusive, n) ORDER BY u.n LOOP
    IF NOT (CASE WHEN t.exclusive THEN pg_try_advisory_xact_lock(t.key) ELSE pg_try_advisory_xact_lock_shared(t.key) END) THEN
      RETURN;
    END IF;
  END LOOP;
  PERFORM 1 FROM tree_operations o
   WHERE EXISTS (SELECT 1 FROM unnest(p_claims, p_trees) AS c(claim, tree) WHERE keepdav_claims_meet(c.claim, c.tree, o.claim, o.tree));
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM keepdav_lock_grant(p_token, p_root, p_scope, p_depth, p_owner, p_timeout, p_principal, p_ancestors, p_lower, p_upper);
END
$$;
`,
  },
  {
    version: 5,
    name: 'statement functions keep one plan',
    sql: `
-- The statements inside these functions take their arguments as parameters, and PostgreSQL plans
-- such a statement anew on every call while it judges a plan for the values at hand cheaper than
-- one for any value: the look for a running operation alone (keepdav_claims_meet inlined into it)
-- took 0.1 ms of each call to plan, against microseconds to run over the few rows these tables
-- hold. One plan per connection, made once, serves every call (measured server side: a LOCK's
-- grant 0.22 ms before, 0.11 ms after).
ALTER FUNCTION keepdav_claim(BIGINT[], BOOLEAN[], TEXT[], BOOLEAN[], TEXT[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION keepdav_lock_grant(TEXT, TEXT, TEXT, TEXT, TEXT, DOUBLE PRECISION, TEXT, TEXT[], TEXT, TEXT) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION keepdav_lock_grant_unclaimed(BIGINT[], BOOLEAN[], TEXT[], BOOLEAN[], TEXT, TEXT, TEXT, TEXT, TEXT, DOUBLE PRECISION, TEXT, TEXT[], TEXT, TEXT)
  SET plan_cache_mode = force_generic_plan;
`,
  },
  LOCK_STATEMENTS_MIGRATION,
  RETENTION_TOTALS_MIGRATION,
  {
    version: 8,
    name: 'dead properties kept with versions',
    sql: `
-- The dead properties a deleted or replaced file had, kept with its version (NULL: none).
ALTER TABLE retained_versions ADD COLUMN properties TEXT;
`,
  },
];

/** The database was migrated by a newer keepdav, or a migration failed. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** The advisory lock (two-key form, namespace MIGRATION) held while migrating. */
const MIGRATION_LOCK = 1;

/**
 * Applies every migration the database lacks; returns the versions applied (empty when it was
 * up to date). Throws SchemaError when the database is newer than this keepdav.
 */
export async function migrate(client: ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_NAMESPACE.migration, MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS keepdav_schema (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM keepdav_schema ORDER BY version');
    const have = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const unknown = rows.find((r) => r.version > newest);
    if (unknown) throw new SchemaError(`the database has schema version ${unknown.version}, newer than this keepdav knows (${newest}); upgrade keepdav`);
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (have.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO keepdav_schema (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new SchemaError(`migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`);
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_NAMESPACE.migration, MIGRATION_LOCK]).catch(() => undefined);
  }
}
