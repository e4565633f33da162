/**
 * Dead properties and version records over PostgreSQL: rows keyed by path (COLLATE "C"), whose
 * subtrees follow their resource through MOVE and COPY in single statements.
 */
import type { DeadProperty, MemberRecords, PropertyRecords, VersionRecord, VersionRecords, FileFingerprint } from '../stateStore';
import type { DavPath } from '../../paths/davPath';
import { subtreeBounds } from '../subtree';
import type { Sql } from './connection';
import type { Atomic } from './lockRecords';
import { toVersionRecord as toRecord, type VersionTableRow } from '../tableRows';

type VersionRow = VersionTableRow & { path: DavPath };

/** `col` is `$1` or lies in [$2, $3): the resource and its subtree. */
const subtree = (col: string, first = 1) => `(${col} = $${first} OR (${col} >= $${first + 1} AND ${col} < $${first + 2}))`;
const bounds = (path: DavPath) => {
  const b = subtreeBounds(path);
  return [b.path, b.lower, b.upper];
};
/** The path under `$4` that `path` (under `$1`) moves or copies to. */
const REKEYED = '$4 || substr(path, length($1) + 1)';

export function propertyRecords(sql: Sql, atomic: Atomic): PropertyRecords {
  const set = `INSERT INTO dead_properties (path, ns, local, xml) VALUES ($1, $2, $3, $4)
    ON CONFLICT (path, ns, local) DO UPDATE SET xml = excluded.xml, seq = nextval('dead_properties_seq_seq')`;
  return {
    list(path) {
      return sql.rows<DeadProperty>('SELECT ns, local, xml FROM dead_properties WHERE path = $1 ORDER BY seq', [path]);
    },
    apply(path, changes) {
      return atomic(async (tx) => {
        for (const change of changes) {
          if (change.op === 'set') await tx.count(set, [path, change.property.ns, change.property.local, change.property.xml]);
          else await tx.count('DELETE FROM dead_properties WHERE path = $1 AND ns = $2 AND local = $3', [path, change.ns, change.local]);
        }
      });
    },
    moveSubtree(from, to) {
      return atomic(async (tx) => {
        await tx.count(`DELETE FROM dead_properties WHERE ${subtree('path')}`, bounds(to));
        await tx.count(`UPDATE dead_properties SET path = ${REKEYED} WHERE ${subtree('path')}`, [...bounds(from), to]);
      });
    },
    copySubtree(from, to, depth) {
      const upsert = "ON CONFLICT (path, ns, local) DO UPDATE SET xml = excluded.xml, seq = nextval('dead_properties_seq_seq')";
      return atomic(async (tx) => {
        if (depth === 'infinity') {
          await tx.count(`INSERT INTO dead_properties (path, ns, local, xml) SELECT ${REKEYED}, ns, local, xml FROM dead_properties WHERE ${subtree('path')} ORDER BY seq ${upsert}`, [...bounds(from), to]);
        } else {
          await tx.count(`INSERT INTO dead_properties (path, ns, local, xml) SELECT $2, ns, local, xml FROM dead_properties WHERE path = $1 ORDER BY seq ${upsert}`, [from, to]);
        }
      });
    },
    async forgetSubtree(path) {
      await sql.count(`DELETE FROM dead_properties WHERE ${subtree('path')}`, bounds(path));
    },
  };
}

/**
 * This instance's cache of version records for `getFor`: an entry answers only while the file's
 * fingerprint is the one its record was made for (another instance's write gives the file a new
 * inode or mtime, so the entry stops answering and the database is asked). Bounded, least
 * recently used first out.
 */
export class VersionCache {
  private readonly entries = new Map<DavPath, VersionRecord>();

  constructor(private readonly limit = 10_000) {}

  matching(path: DavPath, f: FileFingerprint): VersionRecord | null {
    const hit = this.entries.get(path);
    if (!hit || hit.ino !== f.ino || hit.size !== f.size || hit.mtimeMs !== f.mtimeMs) return null;
    this.entries.delete(path);
    this.entries.set(path, hit);
    return { ...hit };
  }

  set(path: DavPath, record: VersionRecord | null): void {
    this.entries.delete(path);
    if (record === null) return;
    this.entries.set(path, { ...record });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as DavPath);
  }

  forgetSubtree(path: DavPath): void {
    for (const key of this.entries.keys()) if (key === path || path === '/' || key.startsWith(path + '/')) this.entries.delete(key);
  }
}

export function versionRecords(sql: Sql, atomic: Atomic, cache: VersionCache | null = null): VersionRecords {
  const get = async (path: DavPath) => {
    const rows = await sql.rows<VersionRow>('SELECT path, etag, ino, size, mtime_ms, sha1, md5 FROM versions WHERE path = $1', [path]);
    const record = rows.length > 0 ? toRecord(rows[0]) : null;
    cache?.set(path, record);
    return record;
  };
  return {
    get,
    async getFor(path, f) {
      return cache?.matching(path, f) ?? get(path);
    },
    async put(path, r) {
      cache?.forgetSubtree(path);
      await sql.count(
        `INSERT INTO versions (path, etag, ino, size, mtime_ms, sha1, md5) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size,
           mtime_ms = excluded.mtime_ms, sha1 = excluded.sha1, md5 = excluded.md5`,
        [path, r.etag, r.ino, r.size, r.mtimeMs, r.sha1, r.md5],
      );
    },
    async putFingerprint(path, etag, f: FileFingerprint) {
      cache?.forgetSubtree(path);
      await sql.count(
        `INSERT INTO versions (path, etag, ino, size, mtime_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms`,
        [path, etag, f.ino, f.size, f.mtimeMs],
      );
    },
    async completeDigests(path, etag, f, digests) {
      // Forgotten either way: set here, or already set (another instance read it back first).
      cache?.forgetSubtree(path);
      const changed = await sql.count(
        `UPDATE versions SET sha1 = coalesce(sha1, $6), md5 = coalesce(md5, $7)
           WHERE path = $1 AND etag = $2 AND ino = $3 AND size = $4 AND mtime_ms = $5 AND (sha1 IS NULL OR md5 IS NULL)`,
        [path, etag, f.ino, f.size, f.mtimeMs, digests.sha1, digests.md5],
      );
      return changed === 1;
    },
    async paths() {
      return (await sql.rows<{ path: string }>('SELECT path FROM versions')).map((r) => r.path);
    },
    moveSubtree(from, to) {
      cache?.forgetSubtree(from);
      cache?.forgetSubtree(to);
      return atomic(async (tx) => {
        await tx.count(`DELETE FROM versions WHERE ${subtree('path')}`, bounds(to));
        await tx.count(`UPDATE versions SET path = ${REKEYED} WHERE ${subtree('path')}`, [...bounds(from), to]);
      });
    },
    async forgetSubtree(path) {
      cache?.forgetSubtree(path);
      await sql.count(`DELETE FROM versions WHERE ${subtree('path')}`, bounds(path));
    },
  };
}

/**
 * The records of a listing's batch in one statement, so one round trip (two were a fifth of the
 * main thread's time in PROPFIND of 1,000 files: each statement's write wakes the database): the
 * version records, then the dead properties in the order they were set, one row shape for both
 * (`seq` is NULL on a version row). The paths go as one JSON array, not a text[] parameter: the
 * planner estimated each element of an array constant anew on every execution (0.45 ms of
 * planning for 256 paths against 0.05 of execution), and node-postgres escapes arrays element by
 * element; the batch's statement took 1.26-1.46 ms that way, 0.75-0.83 ms this way.
 */
const MEMBER_RECORDS = `WITH member AS MATERIALIZED (SELECT json_array_elements_text($1::json) AS path)
  SELECT path, NULL::bigint AS seq, NULL::text AS ns, NULL::text AS local, NULL::text AS xml, etag, ino, size, mtime_ms, sha1, md5
    FROM versions WHERE path IN (SELECT path FROM member)
  UNION ALL
  SELECT path, seq, ns, local, xml, NULL, NULL, NULL, NULL, NULL, NULL FROM dead_properties WHERE path IN (SELECT path FROM member)
  ORDER BY seq NULLS FIRST`;

type MemberRow = { path: DavPath; seq: null } & VersionTableRow | { path: DavPath; seq: number } & DeadProperty;

export async function recordsOfMembers(sql: Sql, paths: readonly DavPath[]): Promise<MemberRecords> {
  const records = { dead: new Map<DavPath, DeadProperty[]>(), versions: new Map<DavPath, VersionRecord>() };
  if (paths.length === 0) return records;
  for (const row of await sql.rows<MemberRow>(MEMBER_RECORDS, [JSON.stringify(paths)])) {
    if (row.seq === null) {
      records.versions.set(row.path, toRecord(row));
      continue;
    }
    const property = { ns: row.ns, local: row.local, xml: row.xml };
    const list = records.dead.get(row.path);
    if (list) list.push(property);
    else records.dead.set(row.path, [property]);
  }
  return records;
}
