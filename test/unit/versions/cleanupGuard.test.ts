import Database from 'better-sqlite3';
import { CleanupGuard } from '../../../src/versions/cleanupGuard';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import type { DavPath } from '../../../src/paths/davPath';

const P = '/a.txt' as DavPath;

describe('CleanupGuard (time injected)', () => {
  let now = 0;
  const guard = () => new CleanupGuard(new SqliteStateStore(new Database(':memory:'), { clock: () => now }), 60_000);
  beforeEach(() => {
    now = 1_000_000;
  });

  test('a refusal is remembered per client and path for the window, then forgotten', async () => {
    const g = guard();
    await g.recordRefusal(P, 'rclone', 'lock-token-submitted', 423);
    expect(await g.refusalOf(P, 'rclone')).toMatchObject({ code: 'lock-token-submitted', status: 423 });
    expect(await g.refusalOf(P, 'other')).toBeNull();
    expect(await g.refusalOf('/b.txt' as DavPath, 'rclone')).toBeNull();
    now += 60_001;
    expect(await g.refusalOf(P, 'rclone')).toBeNull();
  });

  test('a refused DELETE re-arms the window (rclone retrying through a lock)', async () => {
    const g = guard();
    await g.recordRefusal(P, 'rclone', 'lock-token-submitted', 423);
    now += 50_000;
    await g.rearmRefusal(P, 'rclone');
    now += 50_000;
    expect(await g.refusalOf(P, 'rclone')).not.toBeNull();
    now += 10_001;
    expect(await g.refusalOf(P, 'rclone')).toBeNull();
    await g.rearmRefusal(P, 'rclone'); // nothing to re-arm: stays forgotten
    expect(await g.refusalOf(P, 'rclone')).toBeNull();
  });

  test('the same client\'s successful write settles its refusal and deletion', async () => {
    const g = guard();
    await g.recordRefusal(P, 'rclone', 'stale-version', 409);
    await g.recordDeletion(P, 'rclone', { etag: '"e"', mtimeMs: 5000, size: 3 });
    await g.settled(P, 'rclone');
    expect(await g.refusalOf(P, 'rclone')).toBeNull();
    expect(await g.deletionOf(P, 'rclone')).toBeNull();
  });

  test('a deletion is remembered for the window', async () => {
    const g = guard();
    await g.recordDeletion(P, 'rclone', { etag: '"e"', mtimeMs: 5000, size: 3 });
    expect(await g.deletionOf(P, 'rclone')).toMatchObject({ etag: '"e"', mtimeMs: 5000 });
    expect(await g.deletionOf(P, 'cadaver')).toBeNull();
    now += 60_001;
    expect(await g.deletionOf(P, 'rclone')).toBeNull();
  });
});
