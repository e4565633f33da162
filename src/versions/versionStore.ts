/**
 * Resource versions: every file has a strong ETag that changes exactly when its content changes
 * (RFC 4918 §8.6, RFC 9110 §8.8.3), not when only its mtime or dead properties change.
 *
 * A written file gets a fresh random version, remembered with the file's fingerprint (inode,
 * size, mtime). A file whose fingerprint no longer matches the record (changed behind the
 * server's back, or never written through it) gets an ETag derived from its fingerprint, so it
 * still changes whenever the file does.
 */
import { randomBytes } from 'node:crypto';
import type { ContentDigests } from '../storage/atomicWrite';
import type { StateDatabase } from '../state/database';
import type { DavPath } from '../paths/davPath';
import { subtreeBounds, subtreeCondition } from '../state/subtree';

/** The parts of a stat the version depends on. */
export interface FileFingerprint {
  ino: number;
  size: number;
  mtimeMs: number;
}

interface VersionRow {
  etag: string;
  ino: number;
  size: number;
  mtime_ms: number;
}

interface DigestRow extends VersionRow {
  sha1: string | null;
  md5: string | null;
}

function matches(row: VersionRow, f: FileFingerprint): boolean {
  return row.ino === f.ino && row.size === f.size && row.mtime_ms === f.mtimeMs;
}

/** A quoted strong ETag computed from the fingerprint alone. */
export function derivedEtag(f: FileFingerprint): string {
  return `"${f.ino.toString(36)}-${f.size.toString(36)}-${Math.round(f.mtimeMs * 1000).toString(36)}"`;
}

export class VersionStore {
  private readonly selectOne;
  private readonly upsert;
  private readonly deleteTree;
  private readonly moveTree;
  private readonly selectMany;
  private readonly insertContent;
  private readonly selectDigests;
  private readonly selectPaths;

  constructor(private readonly db: StateDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS versions (
      path TEXT PRIMARY KEY, etag TEXT NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL)`);
    addDigestColumns(db);
    this.selectOne = db.prepare<[string], VersionRow>('SELECT etag, ino, size, mtime_ms FROM versions WHERE path = ?');
    this.upsert = db.prepare(
      'INSERT INTO versions (path, etag, ino, size, mtime_ms) VALUES (@path, @etag, @ino, @size, @mtimeMs) ' +
        'ON CONFLICT(path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms',
    );
    // New content replaces the digests too (NULL when unknown); a metadata change (upsert above) keeps them.
    this.insertContent = db.prepare(
      'INSERT INTO versions (path, etag, ino, size, mtime_ms, sha1, md5) VALUES (@path, @etag, @ino, @size, @mtimeMs, @sha1, @md5) ' +
        'ON CONFLICT(path) DO UPDATE SET etag = excluded.etag, ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms, ' +
        'sha1 = excluded.sha1, md5 = excluded.md5',
    );
    this.selectDigests = db.prepare<[string], DigestRow>('SELECT etag, ino, size, mtime_ms, sha1, md5 FROM versions WHERE path = ?');
    this.selectMany = db.prepare<[string], VersionRow & { path: string }>(
      'SELECT path, etag, ino, size, mtime_ms FROM versions WHERE path IN (SELECT value FROM json_each(?))',
    );
    this.selectPaths = db.prepare<[], { path: string }>('SELECT path FROM versions');
    this.deleteTree = db.prepare(`DELETE FROM versions WHERE ${subtreeCondition('path')}`);
    this.moveTree = db.prepare(
      `UPDATE versions SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`,
    );
  }

  /** The current ETag of a file (quoted, strong). */
  etagOf(path: DavPath, f: FileFingerprint): string {
    const row = this.selectOne.get(path);
    return row && matches(row, f) ? row.etag : derivedEtag(f);
  }

  /**
   * The current ETag and, when recorded for this very content, its SHA-1 and MD5: one query for
   * both (a GET answers ETag and OC-Checksum).
   */
  currentOf(path: DavPath, f: FileFingerprint): { etag: string; digests: ContentDigests | null } {
    const row = this.selectDigests.get(path);
    if (!row || !matches(row, f)) return { etag: derivedEtag(f), digests: null };
    return { etag: row.etag, digests: row.sha1 !== null && row.md5 !== null ? { sha1: row.sha1, md5: row.md5 } : null };
  }

  /** Records new content at `path`, with its digests when they were computed on the way in; returns its new ETag. */
  recordNewContent(path: DavPath, f: FileFingerprint, digests?: ContentDigests): string {
    const etag = `"${Date.now().toString(36)}-${randomBytes(8).toString('hex')}"`;
    this.insertContent.run({ path, etag, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, sha1: digests?.sha1 ?? null, md5: digests?.md5 ?? null });
    return etag;
  }

  /**
   * The SHA-1 and MD5 recorded for the file's current content, or null when unknown (written
   * before checksums were kept, copied, or changed behind the server's back since).
   */
  digestsOf(path: DavPath, f: FileFingerprint): ContentDigests | null {
    const row = this.selectDigests.get(path);
    if (!row || !matches(row, f) || row.sha1 === null || row.md5 === null) return null;
    return { sha1: row.sha1, md5: row.md5 };
  }

  /**
   * Records that only the modification time changed (X-OC-Mtime, PROPPATCH of a time): the
   * ETag the client knew (from `before`) stays.
   */
  recordMetadataChange(path: DavPath, before: FileFingerprint, after: FileFingerprint): string {
    const etag = this.etagOf(path, before);
    this.upsert.run({ path, etag, ...after });
    return etag;
  }

  /** The stored record of `path` (ETag and the fingerprint it was given for), if any. */
  recordOf(path: DavPath): (FileFingerprint & { etag: string }) | undefined {
    const row = this.selectOne.get(path);
    return row && { etag: row.etag, ino: row.ino, size: row.size, mtimeMs: row.mtime_ms };
  }

  /** Every path that has a record (a scrub and a reindex compare them with the tree). */
  recordedPaths(): DavPath[] {
    return this.selectPaths.all().map((r) => r.path);
  }

  /** MOVE keeps inode, size and mtime, so the versions move along. */
  moveSubtree(from: DavPath, to: DavPath): void {
    this.moveTree.run({ ...subtreeBounds(from), to });
  }

  forgetSubtree(path: DavPath): void {
    this.deleteTree.run(subtreeBounds(path));
  }

  /**
   * The ETags of the files `paths` at once (a batch of a streamed PROPFIND), in one query: a
   * function from a file's path and fingerprint to its ETag, answering as etagOf would.
   */
  etagsOfMany(paths: readonly DavPath[]): (path: DavPath, f: FileFingerprint) => string {
    const rows = new Map<string, VersionRow>();
    for (const row of this.selectMany.all(JSON.stringify(paths))) rows.set(row.path, row);
    return (path, f) => {
      const row = rows.get(path);
      return row && matches(row, f) ? row.etag : derivedEtag(f);
    };
  }
}

/** Schema migration: the digest columns, added to a store created before them; existing rows keep NULL. */
function addDigestColumns(db: StateDatabase): void {
  const columns = new Set(db.prepare<[], { name: string }>('PRAGMA table_info(versions)').all().map((c) => c.name));
  if (!columns.has('sha1')) db.exec('ALTER TABLE versions ADD COLUMN sha1 TEXT');
  if (!columns.has('md5')) db.exec('ALTER TABLE versions ADD COLUMN md5 TEXT');
}
