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
    const store = new VersionStore(new SqliteStateStore(new Database(':memory:')).versions);
    await store.recordNewContent(P, F, D);
    expect(await store.digestsOf(P, F)).toEqual(D);
    const after = { ...F, mtimeMs: 2000 };
    await store.recordMetadataChange(P, F, after);
    expect(await store.digestsOf(P, after)).toEqual(D);
    expect(await store.digestsOf(P, { ...after, size: 4 })).toBeNull(); // changed behind the server's back
    await store.recordNewContent(P, after);
    expect(await store.digestsOf(P, after)).toBeNull();
  });
});
