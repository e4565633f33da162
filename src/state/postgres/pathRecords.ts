/**
 * Dead properties and version records over PostgreSQL: rows keyed by path (COLLATE "C"), whose
 * subtrees follow their resource through MOVE and COPY in single statements.
 */
import type { DeadProperty, PropertyRecords, VersionRecord, VersionRecords, FileFingerprint } from '../stateStore';
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
    async listMany(paths) {
      const byPath = new Map<DavPath, DeadProperty[]>();
      if (paths.length === 0) return byPath;
      const rows = await sql.rows<DeadProperty & { path: string }>('SELECT path, ns, local, xml FROM dead_properties WHERE path = ANY($1::text[]) ORDER BY seq', [paths]);
      for (const { path, ns, local, xml } of rows) {
        const list = byPath.get(path);
        if (list) list.push({ ns, local, xml });
        else byPath.set(path, [{ ns, local, xml }]);
      }
      return byPath;
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
    async getMany(paths) {
      const out = new Map<DavPath, VersionRecord>();
      if (paths.length === 0) return out;
      for (const row of await sql.rows<VersionRow>('SELECT path, etag, ino, size, mtime_ms, sha1, md5 FROM versions WHERE path = ANY($1::text[])', [paths])) {
        out.set(row.path, toRecord(row));
      }
      return out;
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
