import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { VersionStore } from '../../../src/versions/versionStore';
import type { DavPath } from '../../../src/paths/davPath';

const P = '/f' as DavPath;
const F = { ino: 7, size: 3, mtimeMs: 1000 };
const D = { sha1: 'a'.repeat(40), md5: 'b'.repeat(32) };

describe('VersionStore digests', () => {
  test('a store created before the digest columns is migrated and keeps its rows', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE versions (path TEXT PRIMARY KEY, etag TEXT NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL)');
    db.prepare('INSERT INTO versions VALUES (?, ?, ?, ?, ?)').run(P, '"old"', F.ino, F.size, F.mtimeMs);
    const store = new VersionStore(new SqliteStateStore(db).versions);
    expect(await store.etagOf(P, F)).toBe('"old"');
    expect(await store.digestsOf(P, F)).toBeNull();
    const columns = db.prepare('PRAGMA table_info(versions)').all().map((c) => (c as { name: string }).name);
    expect(columns).toEqual(expect.arrayContaining(['sha1', 'md5']));
    new SqliteStateStore(db); // opening again is harmless
    expect(await store.etagOf(P, F)).toBe('"old"');
  });

  test('new content records them, a metadata change keeps them, new content without them clears them', async () => {
    const missing: string[] = [];
    const store = new VersionStore(new SqliteStateStore(new Database(':memory:')).versions, (path, etag, f) => missing.push(`${path} ${etag} ${f.mtimeMs}`));
    await store.recordNewContent(P, F, D);
    expect(await store.digestsOf(P, F)).toEqual(D);
    const after = { ...F, mtimeMs: 2000 };
    await store.recordMetadataChange(P, F, after);
    expect(await store.digestsOf(P, after)).toEqual(D);
    expect(await store.digestsOf(P, { ...after, size: 4 })).toBeNull(); // changed behind the server's back
    expect(missing).toEqual([]);
    const etag = await store.recordNewContent(P, after, null); // a large upload left to be read back
    expect(missing).toEqual([`${P} ${etag} 2000`]);
    expect(await store.currentOf(P, after)).toEqual({ etag, digests: null, pending: true });
    expect(missing).toHaveLength(2); // looked at: told again (the queue keeps it once)
    expect(await store.currentOf(P, { ...after, size: 4 })).toEqual({ etag: expect.any(String), digests: null, pending: false });
    expect(missing).toHaveLength(2); // another content than the record's: nothing to complete
  });

  test('a record with its SHA-1 and without its MD5 gives the SHA-1 and is pending', async () => {
    const missing: string[] = [];
    const store = new VersionStore(new SqliteStateStore(new Database(':memory:')).versions, (path) => missing.push(path));
    const etag = await store.recordNewContent(P, F, { sha1: D.sha1, md5: null });
    expect(missing).toEqual([P]);
    expect(await store.currentOf(P, F)).toEqual({ etag, digests: { sha1: D.sha1, md5: null }, pending: true });
  });
});
