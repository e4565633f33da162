/**
 * Migration 7 of the shared schema (schema.ts): the totals of the retention index, kept up to date
 * by the database itself, so that what pruning asks after every DELETE and overwrite ("how many
 * bytes are kept?", src/versions/retention.ts) needs no pass over every retained version.
 *
 * Measured with 200,000 retained versions (a month of small edits stays within the default budget):
 * that pass took 21 ms, and overwriting PUTs through 8 connections ran at 28-37 a second; with
 * the totals kept here, at 307-369.
 *
 * Every statement that changes retained_versions adds its difference to one of 16 rows, in its own
 * transaction (so a transaction sees its own changes counted, and a rolled back one counts
 * nothing): this connection's own row when no other transaction holds it, else any row free at
 * that moment (SKIP LOCKED). Adding never waits while one row is free, so concurrent writers
 * neither queue behind one row nor deadlock over it. The triggers are per statement (over its
 * transition tables), not per row: one transaction adding to the same row for each of thousands
 * of rows made that row's chain of versions longer with each, and 200,000 rows took 9 minutes.
 */
import type { Migration } from './schema';

/** The two totals, summed over the rows of retention_totals. */
export const RETENTION_TOTALS_SQL =
  'SELECT COALESCE(sum(listed), 0)::bigint AS count, COALESCE(sum(bytes), 0)::bigint AS bytes FROM retention_totals';

export const RETENTION_TOTALS_MIGRATION: Migration = {
  version: 7,
  name: 'retention totals kept by the database',
  sql: `
-- Listed versions (reason other than 'pending') and the bytes of all, pending ones included.
CREATE TABLE retention_totals (
  stripe SMALLINT PRIMARY KEY,
  listed BIGINT NOT NULL,
  bytes  BIGINT NOT NULL
);

CREATE FUNCTION keepdav_retention_totals_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d_listed BIGINT := 0;
  d_bytes BIGINT := 0;
  gone RECORD;
  came RECORD;
  chosen SMALLINT;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    SELECT count(*) FILTER (WHERE reason <> 'pending') AS listed, COALESCE(sum(size), 0) AS bytes INTO gone FROM old_rows;
    d_listed := d_listed - gone.listed;
    d_bytes := d_bytes - gone.bytes;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT count(*) FILTER (WHERE reason <> 'pending') AS listed, COALESCE(sum(size), 0) AS bytes INTO came FROM new_rows;
    d_listed := d_listed + came.listed;
    d_bytes := d_bytes + came.bytes;
  END IF;
  IF d_listed = 0 AND d_bytes = 0 THEN
    RETURN NULL;
  END IF;
  SELECT t.stripe INTO chosen FROM retention_totals t
   ORDER BY t.stripe <> pg_backend_pid() % 16, t.stripe LIMIT 1 FOR UPDATE SKIP LOCKED;
  -- Sixteen transactions at once hold every row (or the rows are gone): this connection's own.
  chosen := COALESCE(chosen, pg_backend_pid() % 16);
  INSERT INTO retention_totals AS t (stripe, listed, bytes) VALUES (chosen, d_listed, d_bytes)
    ON CONFLICT (stripe) DO UPDATE SET listed = t.listed + excluded.listed, bytes = t.bytes + excluded.bytes;
  RETURN NULL;
END
$$;

-- Made first: they lock the table against writers until this migration commits, so the count
-- below sees every row committed before and the triggers every row written after.
CREATE TRIGGER retention_totals_insert AFTER INSERT ON retained_versions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION keepdav_retention_totals_change();
CREATE TRIGGER retention_totals_delete AFTER DELETE ON retained_versions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION keepdav_retention_totals_change();
CREATE TRIGGER retention_totals_update AFTER UPDATE ON retained_versions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION keepdav_retention_totals_change();

INSERT INTO retention_totals (stripe, listed, bytes)
  SELECT 0, count(*) FILTER (WHERE reason <> 'pending'), COALESCE(sum(size), 0) FROM retained_versions;
INSERT INTO retention_totals (stripe, listed, bytes) SELECT g, 0, 0 FROM generate_series(1, 15) g;
`,
};
