import { CleanupGuard } from '../../../src/versions/cleanupGuard';
import type { DavPath } from '../../../src/paths/davPath';

const P = '/a.txt' as DavPath;

describe('CleanupGuard (time injected)', () => {
  let now = 0;
  const guard = () => new CleanupGuard(60_000, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  test('a refusal is remembered per client and path for the window, then forgotten', () => {
    const g = guard();
    g.recordRefusal(P, 'rclone', 'lock-token-submitted', 423);
    expect(g.refusalOf(P, 'rclone')).toMatchObject({ code: 'lock-token-submitted', status: 423 });
    expect(g.refusalOf(P, 'other')).toBeNull();
    expect(g.refusalOf('/b.txt' as DavPath, 'rclone')).toBeNull();
    now += 60_001;
    expect(g.refusalOf(P, 'rclone')).toBeNull();
  });

  test('a refused DELETE re-arms the window (rclone retrying through a lock)', () => {
    const g = guard();
    g.recordRefusal(P, 'rclone', 'lock-token-submitted', 423);
    now += 50_000;
    g.rearmRefusal(P, 'rclone');
    now += 50_000;
    expect(g.refusalOf(P, 'rclone')).not.toBeNull();
    now += 10_001;
    expect(g.refusalOf(P, 'rclone')).toBeNull();
    g.rearmRefusal(P, 'rclone'); // nothing to re-arm: stays forgotten
    expect(g.refusalOf(P, 'rclone')).toBeNull();
  });

  test('the same client\'s successful write settles its refusal and deletion', () => {
    const g = guard();
    g.recordRefusal(P, 'rclone', 'stale-version', 409);
    g.recordDeletion(P, 'rclone', { etag: '"e"', mtimeMs: 5000, size: 3 });
    g.settled(P, 'rclone');
    expect(g.refusalOf(P, 'rclone')).toBeNull();
    expect(g.deletionOf(P, 'rclone')).toBeNull();
  });

  test('a deletion is remembered for the window', () => {
    const g = guard();
    g.recordDeletion(P, 'rclone', { etag: '"e"', mtimeMs: 5000, size: 3 });
    expect(g.deletionOf(P, 'rclone')).toMatchObject({ etag: '"e"', mtimeMs: 5000 });
    expect(g.deletionOf(P, 'cadaver')).toBeNull();
    now += 60_001;
    expect(g.deletionOf(P, 'rclone')).toBeNull();
  });
});
