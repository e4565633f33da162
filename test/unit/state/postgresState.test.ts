/**
 * The PostgreSQL state store's own guarantees, beyond the shared contract suite
 * (test/contract/postgresStateStore.test.ts): migrations, bytewise paths, one grant among
 * concurrent LOCKs from two instances, write claims and running operations across instances,
 * adoption of a dead instance's intents, the option that selects it. A real throwaway cluster
 * (test/support/postgresCluster.ts); skipped loudly outside CI when PostgreSQL is missing.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgresCluster, itWithPostgres, type PostgresCluster } from '../../support/postgresCluster';
import { retryWhile } from '../../support/retryWhile';
import { PostgresStateStore } from '../../../src/state/postgres/postgresStateStore';
import { migrateCommand } from '../../../src/state/postgres/migrateCommand';
import { recoverDeadInstances } from '../../../src/state/postgres/sharedState';
import { main } from '../../../src/cli';
import { StateUnavailableError } from '../../../src/state/postgres/stateUrl';
import { MIGRATIONS, migrate } from '../../../src/state/postgres/schema';
import { createHash } from 'node:crypto';
import { planClaimLocks } from '../../../src/state/postgres/advisoryLocks';
import { loadServeSettings } from '../../../src/settings/loadSettings';
import { resolveConfig, ConfigError } from '../../../src/config';
import { OperationInProgressError } from '../../../src/concurrency/pathMutex';
import type { RetentionRow } from '../../../src/state/stateStore';

const itPg = itWithPostgres();
jest.setTimeout(120_000);

let cluster: PostgresCluster | undefined;
let dbCounter = 0;
const stores: PostgresStateStore[] = [];

async function freshDatabase(): Promise<string> {
  cluster ??= await startPostgresCluster();
  return cluster.createDatabase(`unit_${++dbCounter}`);
}

async function openStore(url: string, lease = { heartbeatMs: 200, leaseMs: 1_000 }): Promise<PostgresStateStore> {
  const store = await PostgresStateStore.open(url, { lease });
  stores.push(store);
  return store;
}

afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await cluster?.remove();
});

describe('the schema', () => {
  itPg('is created by numbered migrations once, also by `keepdav migrate`, and a newer schema is refused', async () => {
    const url = await freshDatabase();
    const out: string[] = [];
    expect(await migrateCommand(url, (l) => out.push(l), (l) => out.push(l))).toBe(0);
    expect(out[0]).toMatch(/^migrated .* to schema version 8 \(applied 1, 2, 3, 4, 5, 6, 7, 8\)$/);
    expect(await migrateCommand(url, (l) => out.push(l), (l) => out.push(l))).toBe(0);
    expect(out[1]).toMatch(/nothing to do/);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM keepdav_schema ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const collations = await client.query(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('path', 'root', 'src', 'dst')",
      );
      expect(collations.rows.length).toBeGreaterThanOrEqual(8);
      for (const row of collations.rows) expect(`${row.table_name}.${row.column_name} ${row.collation_name}`).toBe(`${row.table_name}.${row.column_name} C`);
      await client.query("INSERT INTO keepdav_schema (version, name) VALUES (999, 'from the future')");
    } finally {
      await client.end();
    }
    await expect(PostgresStateStore.open(url)).rejects.toThrow(/schema version 999, newer than this keepdav knows/);
  });

  it('`keepdav migrate` needs a postgres:// state (exit 2 with one line otherwise)', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      expect(await main(['migrate', '--state', '/var/lib/keepdav'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toMatch(/^keepdav: migrate needs --state postgres:\/\/user@host\/db/);
  });

  itPg('refuses an unreachable database with one line naming the URL without its password', async () => {
    cluster ??= await startPostgresCluster();
    const url = `postgres://keepdav:secret@127.0.0.1:${cluster.port + 1}/nothing`;
    const err = await PostgresStateStore.open(url).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^--state postgres:\/\/keepdav:\*\*\*@127\.0\.0\.1:\d+\/nothing: /);
    expect((err as Error).message).not.toContain('secret');
    const lines: string[] = [];
    expect(await migrateCommand(url, (l) => lines.push(l), (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).not.toContain('secret');
  });
});

describe('paths compare bytewise (COLLATE "C")', () => {
  itPg('a subtree of /a holds /a/x only, never /A/x, /á/y or /ab', async () => {
    const store = await openStore(await freshDatabase());
    const record = { etag: '"e"', ino: 1, size: 1, mtimeMs: 1, sha1: null, md5: null };
    for (const p of ['/a', '/a/x', '/A/x', '/á/y', '/ab', '/a0', '/a.b']) await store.versions.put(p, record);
    await store.versions.forgetSubtree('/a');
    expect((await store.versions.paths()).sort()).toEqual(['/A/x', '/a.b', '/a0', '/ab', '/á/y'].sort());
  });
});

describe('locks across instances', () => {
  itPg('of 64 concurrent exclusive LOCKs through two instances exactly one is granted, and the other instance sees it at once', async () => {
    const url = await freshDatabase();
    const [a, b] = [await openStore(url), await openStore(url)];
    for (let round = 0; round < 3; round++) {
      const root = `/doc-${round}`;
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          (i % 2 ? a : b).locks.insertUnlessConflicting({ token: `urn:uuid:r${round}-${i}`, root, scope: 'exclusive', depth: i % 3 === 0 ? 'infinity' : '0', owner: null, timeoutSeconds: 60 }),
        ),
      );
      const granted = results.filter((r) => r.granted);
      expect(granted).toHaveLength(1);
      for (const r of results.filter((x) => x.conflict)) expect(r.conflict!.token).toBe(granted[0].granted!.token);
      expect((await a.locks.covering(root)).map((l) => l.token)).toEqual([granted[0].granted!.token]);
      expect((await b.locks.covering(`${root}`)).map((l) => l.token)).toEqual([granted[0].granted!.token]);
    }
  });

  itPg('a depth-infinity lock on an ancestor, granted on one instance, conflicts on the other', async () => {
    const url = await freshDatabase();
    const [a, b] = [await openStore(url), await openStore(url)];
    const first = await a.locks.insertUnlessConflicting({ token: 'urn:uuid:tree', root: '/docs', scope: 'exclusive', depth: 'infinity', owner: null, timeoutSeconds: 60 });
    expect(first.granted).toBeDefined();
    const second = await b.locks.insertUnlessConflicting({ token: 'urn:uuid:leaf', root: '/docs/a/b.txt', scope: 'shared', depth: '0', owner: null, timeoutSeconds: 60 });
    expect(second.conflict?.token).toBe('urn:uuid:tree');
    // A sibling tree is free; /docsX is no member of /docs.
    expect((await b.locks.insertUnlessConflicting({ token: 'urn:uuid:other', root: '/docsX', scope: 'exclusive', depth: '0', owner: null, timeoutSeconds: 60 })).granted).toBeDefined();
    // Expiry is the database clock's: a lock of 1 s is gone for both instances after it.
    const short = await a.locks.insertUnlessConflicting({ token: 'urn:uuid:short', root: '/brief', scope: 'exclusive', depth: '0', owner: null, timeoutSeconds: 1 });
    expect(short.granted!.expiresAtMs).toBe(short.granted!.createdAtMs + 1000);
    const dbNow = await b.now();
    expect(Math.abs(dbNow - short.granted!.createdAtMs)).toBeLessThan(5_000);
  });
});

/** pg_stat_user_tables' scan counters of `table` (a session flushes them within a second, and when it ends). */
async function tableScans(url: string, table: string): Promise<{ seq: number; idx: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname = $1', [table]);
    return { seq: Number(rows[0].seq_scan), idx: Number(rows[0].idx_scan ?? 0) };
  } finally {
    await client.end();
  }
}

/**
 * A table's scan counts once every other session on its database has ended. A session hands its
 * counts to the statistics when it exits, which is a moment after close() resolved; counts read
 * before that would charge the closed store's scans to whatever the test does next.
 */
async function settledTableScans(url: string, table: string): Promise<{ seq: number; idx: number }> {
  const otherSessions = async (): Promise<number> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return rows[0].n;
    } finally {
      await client.end();
    }
  };
  const left = await retryWhile(otherSessions, (n) => n > 0, 10_000);
  if (left > 0) throw new Error(`${left} sessions still open on ${url}`);
  return tableScans(url, table);
}

describe('lock statements while the lock table churns (migration 6)', () => {
  itPg('look locks up through an index, never by reading the table, when its statistics count only the live rows', async () => {
    const url = await freshDatabase();
    const lock = (i: number, root = '/hot/doc.txt') => ({ token: `urn:uuid:churn-${i}`, root, scope: 'exclusive' as const, depth: '0' as const, owner: null, timeoutSeconds: 60 });
    // Dead row versions of one path pile up, then ANALYZE counts the live rows (none) beside the grown pages.
    const first = await openStore(url);
    for (let i = 0; i < 400; i++) {
      expect((await first.locks.insertUnlessConflicting(lock(i))).granted).toBeDefined();
      expect(await first.locks.releaseOwned(`urn:uuid:churn-${i}`, '/hot/doc.txt', null)).not.toBeNull();
    }
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query('ANALYZE locks');
    await admin.end();
    await first.close();
    const before = await settledTableScans(url, 'locks');
    expect(before.idx).toBeGreaterThanOrEqual(800);

    // Fresh sessions plan every lock statement anew; each must still go through an index.
    const store = await openStore(url);
    const hot = '/hot/doc.txt';
    for (let i = 1000; i < 1050; i++) {
      const granted = await store.locks.insertUnlessClaimedOrConflicting(lock(i), [{ path: hot, tree: false }]);
      expect('granted' in granted && granted.granted?.token).toBe(`urn:uuid:churn-${i}`);
      expect((await store.locks.covering(hot)).map((l) => l.token)).toEqual([`urn:uuid:churn-${i}`]);
      expect((await store.locks.within('/hot')).map((l) => l.token)).toEqual([`urn:uuid:churn-${i}`]);
      expect((await store.locks.byToken(`urn:uuid:churn-${i}`))?.root).toBe(hot);
      expect((await store.locks.refresh(`urn:uuid:churn-${i}`, 120))?.timeoutSeconds).toBe(120);
      expect((await store.locks.insertUnlessConflicting(lock(i + 100, '/hot'))).conflict).toBeUndefined();
      expect(await store.locks.release(`urn:uuid:churn-${i + 100}`)).not.toBeNull();
      expect((await store.locks.releaseOwned(`urn:uuid:churn-${i}`, hot, null))?.token).toBe(`urn:uuid:churn-${i}`);
    }
    await store.close();
    const after = await settledTableScans(url, 'locks');
    expect(after.idx - before.idx).toBeGreaterThanOrEqual(50 * 9);
    expect(after.seq - before.seq).toBe(0);
  });
});

describe('retention totals kept by the database (migration 7)', () => {
  const kept = (id: string, path: string, size: number, reason: RetentionRow['reason'] = 'delete'): RetentionRow => ({
    id, path, retainedAtMs: 1_000, size, etag: '"e"', mtimeMs: 1, reason, storage: `st/${id}`,
    pendingReason: reason === 'pending' ? 'delete' : null, sourceIno: null, pendingKind: reason === 'pending' ? 'file' : null, intentId: null,
  });

  itPg('start from the rows already there when the migration comes, and follow concurrent writers on two instances exactly', async () => {
    const url = await freshDatabase();
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await migrate(client, MIGRATIONS.filter((m) => m.version < 7));
      await client.query(
        `INSERT INTO retained_versions (id, path, retained_at, size, etag, mtime_ms, reason, storage)
         VALUES ('old-1', '/a', 1, 100, '"e"', 1, 'delete', 's1'), ('old-2', '/b', 1, 20, '"e"', 1, 'pending', 's2')`,
      );
    } finally {
      await client.end();
    }
    const [a, b] = [await openStore(url), await openStore(url)];
    expect(await a.retention.totals()).toEqual({ count: 1, bytes: 120 });

    // 2 x 60 writers at once: inserts (a third pending), then commits, removals and a MOVE.
    await Promise.all(Array.from({ length: 120 }, (_, i) => (i % 2 ? a : b).retention.insert(kept(`v${i}`, `/d/f${i % 7}`, i + 1, i % 3 ? 'delete' : 'pending'))));
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).retention.commit(`v${i * 3}`)));
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).retention.remove(`v${i * 4 + 1}`)));
    await a.retention.moveSubtree('/d', '/e');
    const truth = new Client({ connectionString: url });
    await truth.connect();
    const { rows } = await truth.query("SELECT count(*) FILTER (WHERE reason <> 'pending')::int AS count, sum(size)::int AS bytes FROM retained_versions");
    await truth.end();
    expect(rows[0].count).toBeGreaterThan(50);
    expect(await b.retention.totals()).toEqual(rows[0]);
    expect(await a.retention.keptBytes()).toBe(rows[0].bytes);
  });

  itPg('are read without a pass over the retained versions', async () => {
    const url = await freshDatabase();
    const store = await openStore(url);
    for (let i = 0; i < 20; i++) await store.retention.insert(kept(`v${i}`, `/f${i}`, 10));
    await store.close();
    const before = await settledTableScans(url, 'retained_versions');
    const totalsBefore = await tableScans(url, 'retention_totals');
    const reader = await openStore(url);
    for (let i = 0; i < 20; i++) expect(await reader.retention.keptBytes()).toBe(200);
    await reader.close();
    expect((await settledTableScans(url, 'retention_totals')).seq - totalsBefore.seq).toBeGreaterThanOrEqual(20);
    expect((await tableScans(url, 'retained_versions')).seq).toBe(before.seq);
  });
});

describe('write claims across instances', () => {
  it('take shared locks on ancestors and exclusive on targets, in one bytewise order', () => {
    expect(planClaimLocks(['/b/x', '/a']).map((l) => `${l.mode[0]} ${l.path}`)).toEqual(['s /', 'e /a', 's /b', 'e /b/x']);
    expect(planClaimLocks(['/a/b', '/a']).map((l) => `${l.mode[0]} ${l.path}`)).toEqual(['s /', 'e /a', 'e /a/b']);
  });

  it('order paths by their UTF-8 bytes, also where UTF-16 order differs (a character beyond U+FFFF), with each path\'s key the same every time', () => {
    const bytewise = (paths: string[]) => [...paths].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    // U+FF5E sorts after U+1F600 in UTF-16 (0xFF5E > 0xD83D) but before it in UTF-8 (EF... < F0...).
    for (const targets of [['/\uFF5E', '/\u{1F600}', '/z', '/é'], ['/é/x', '/e/x', '/Z'], ['/\u{1F600}/a', '/\uFF5E/b']]) {
      const plan = planClaimLocks(targets);
      expect(plan.map((l) => l.path)).toEqual(bytewise(plan.map((l) => l.path)));
      for (const l of plan) expect(l.key).toBe(createHash('sha256').update(l.path, 'utf8').digest().readBigInt64BE(0).toString());
    }
    expect(planClaimLocks(['/\uFF5E', '/\u{1F600}']).map((l) => l.path)).toEqual(['/', '/\uFF5E', '/\u{1F600}']);
    expect(planClaimLocks(['/\uFF5E', '/\u{1F600}'])).toEqual(planClaimLocks(['/\u{1F600}', '/\uFF5E'])); // remembered keys, same plan
  });

  itPg('a write below a tree another instance holds waits for it; a running operation there is 423 on the other instance', async () => {
    const url = await freshDatabase();
    const [a, b] = [await openStore(url), await openStore(url)];
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const isRunning = new Promise<void>((r) => (started = r));
    const holder = a.claims.run([{ path: '/tree', tree: true }], async () => {
      events.push('a holds /tree');
      started();
      await held;
      events.push('a releases /tree');
    });
    await isRunning;
    // A lock granted without a claim of its own is not granted there either, only beside it.
    const lockOn = (root: string) => ({ token: `urn:uuid:${root.length}-${Date.now()}`, root, scope: 'exclusive' as const, depth: '0' as const, owner: null, timeoutSeconds: 60 });
    expect(await b.locks.insertUnlessClaimedOrConflicting(lockOn('/tree/deep/file'), [{ path: '/tree/deep/file', tree: false }])).toEqual({ claimed: true });
    expect((await b.locks.insertUnlessClaimedOrConflicting(lockOn('/other/file'), [{ path: '/other/file', tree: false }])).granted).toBeDefined();
    const waiter = b.claims.run([{ path: '/tree/deep/file', tree: false }], async () => void events.push('b writes /tree/deep/file'));
    const sibling = b.claims.run([{ path: '/other', tree: false }], async () => void events.push('b writes /other'));
    await sibling;
    expect(events).toEqual(['a holds /tree', 'b writes /other']);
    release();
    await Promise.all([holder, waiter]);
    expect(events).toEqual(['a holds /tree', 'b writes /other', 'a releases /tree', 'b writes /tree/deep/file']);

    let finish!: () => void;
    const moving = new Promise<void>((r) => (finish = r));
    let begun!: () => void;
    const hasBegun = new Promise<void>((r) => (begun = r));
    const move = a.claims.run([{ path: '/src', tree: true }, { path: '/dst', tree: true }], async () => {
      begun();
      await moving;
    }, { id: 'op-1', method: 'MOVE', path: '/src' });
    await hasBegun;
    const refused = await b.claims.run([{ path: '/src/x', tree: false }], async () => 'ran').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationInProgressError);
    expect((refused as OperationInProgressError).operation).toMatchObject({ id: 'op-1', method: 'MOVE', path: '/src' });
    expect((await b.claims.running()).map((o) => o.id)).toEqual(['op-1']);
    finish();
    await move;
    expect(await b.claims.run([{ path: '/src/x', tree: false }], async () => 'ran')).toBe('ran');
    expect(await b.claims.running()).toEqual([]);
  });
});

describe('leases', () => {
  itPg("a dead instance's intents and running operations are adopted by one live instance, never a live one's", async () => {
    const url = await freshDatabase();
    const dying = await PostgresStateStore.open(url, { lease: { heartbeatMs: 3_600_000, leaseMs: 1_000 } });
    stores.push(dying);
    const live = await openStore(url);
    const other = await openStore(url);
    const intent = await dying.journal.record({ op: 'move', src: '/a', dst: '/b', depth: 'infinity', mtime_ms: null });
    await live.journal.record({ op: 'delete', src: '/c', dst: null, depth: 'infinity', mtime_ms: null });
    // The dying instance's operation row stands (as when a process is killed mid-MOVE).
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    let running!: () => void;
    const isRunning = new Promise<void>((r) => (running = r));
    void dying.claims.run([{ path: '/a', tree: true }], async () => (running(), stopped), { id: 'op-dead', method: 'MOVE', path: '/a' }).catch(() => undefined);
    await isRunning;
    expect(await other.adoptDeadInstances(true)).toEqual([]); // alive: its liveness lock is held
    // Kill every session of the dying instance, as the death of its process would.
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = [
        ...(await admin.query('SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (SELECT pid FROM pg_locks WHERE locktype = $1 AND objid = (SELECT liveness_key FROM instances WHERE id = $2))', ['advisory', dying.instanceId])).rows,
        ...(await admin.query("SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'keepdav claims' AND state <> 'active' AND pid <> pg_backend_pid() AND query LIKE '%keepdav_claim(%'")).rows,
      ].map((row: { pid: number }) => row.pid);
      expect(killed.length).toBeGreaterThanOrEqual(2);
      // pg_terminate_backend only signals: the sessions (and their advisory locks) end a moment later.
      await retryWhile(() => admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [killed]), (found) => found.rowCount !== 0, 5_000);
    } finally {
      await admin.end();
    }
    const refused = await other.claims.run([{ path: '/a/x', tree: false }], async () => 'ran').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationInProgressError); // still 423 until recovered
    // Its claims' advisory locks went with its sessions; its operation's row still keeps a lock out.
    const lockInside = { token: 'urn:uuid:inside-dead-operation', root: '/a/x', scope: 'exclusive' as const, depth: '0' as const, owner: null, timeoutSeconds: 60 };
    expect(await other.locks.insertUnlessClaimedOrConflicting(lockInside, [{ path: '/a/x', tree: false }])).toEqual({ claimed: true });
    const [adopted, ...more] = await live.adoptDeadInstances(true);
    expect(more).toEqual([]);
    expect(adopted.id).toBe(dying.instanceId);
    expect(adopted.operationIds).toEqual(['op-dead']);
    expect(await other.adoptDeadInstances(true)).toEqual([]); // one adopter only
    // Its recovery view answers its intents only; the live instances' own journals never do.
    expect((await live.recoveryView(adopted.id).journal.pending()).map((i) => i.id)).toEqual([intent]);
    expect((await live.journal.pending()).map((i) => i.id)).not.toContain(intent);
    expect((await other.journal.pending()).map((i) => i.id)).not.toContain(intent);
    live.abandonAdoption(adopted);
    // The server's round: recover through the view, then the operation and the lease end.
    const recovered: number[][] = [];
    const round = () =>
      recoverDeadInstances(live, (view) => ({
        async recover() {
          const pending = await view.journal.pending();
          recovered.push(pending.map((i) => i.id));
          for (const i of pending) await view.journal.complete(i.id);
        },
      }), true, () => undefined);
    // Abandoning drops the adopter's connection; its session, which holds the dead instance's
    // liveness lock, ends a moment later. Until then a round finds nothing to adopt, as the
    // server's next heartbeat round would retry.
    expect(await retryWhile(round, (rounds) => rounds === 0)).toBe(1);
    expect(recovered).toEqual([[intent]]);
    expect(await other.claims.run([{ path: '/a/x', tree: false }], async () => 'ran')).toBe('ran');
    expect(await other.adoptDeadInstances(true)).toEqual([]);
    // (The claim just ended gives its advisory locks up a moment after run() resolved.)
    const outcome = await retryWhile(() => other.locks.insertUnlessClaimedOrConflicting(lockInside, [{ path: '/a/x', tree: false }]), (o) => 'claimed' in o);
    expect(outcome.granted?.root).toBe('/a/x');
    stop();
  });
});

describe('fencing', () => {
  itPg('an instance whose lease was taken over refuses writes (StateUnavailableError) and says why', async () => {
    const url = await freshDatabase();
    const fencedWith: string[] = [];
    const store = await PostgresStateStore.open(url, { lease: { heartbeatMs: 100, leaseMs: 1_000 }, onFenced: (reason) => fencedWith.push(reason) });
    stores.push(store);
    expect(await store.claims.run([{ path: '/x', tree: false }], async () => 'ran')).toBe('ran');
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('DELETE FROM instances WHERE id = $1', [store.instanceId]); // as a recovering neighbour does
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 100 && fencedWith.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fencedWith[0]).toMatch(/declared it dead/);
    await expect(store.claims.run([{ path: '/x', tree: false }], async () => 'ran')).rejects.toBeInstanceOf(StateUnavailableError);
  });
});

describe('--state postgres://', () => {
  it('selects the shared store, keeps the local state directory for retained bytes, and refuses a URL without a database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepdav-pgopt-'));
    try {
      const config = resolveConfig(loadServeSettings(['--root', join(dir, 'root'), '--state', 'postgres://keepdav@db.example/keepdav'], {}));
      expect(config.stateUrl).toBe('postgres://keepdav@db.example/keepdav');
      expect(config.stateDir).toBe(join(dir, 'root.keepdav-state'));
      const fromEnv = resolveConfig(loadServeSettings(['--root', join(dir, 'root'), '--state-dir', join(dir, 'shared-state')], { KEEPDAV_STATE: 'postgresql://u@h/db' }));
      expect([fromEnv.stateUrl, fromEnv.stateDir]).toEqual(['postgresql://u@h/db', join(dir, 'shared-state')]);
      const file = join(dir, 'keepdav.yaml');
      writeFileSync(file, 'root: ./root\nstate: postgres://keepdav@db.example/keepdav\nstate-dir: ./shared-state\n');
      const fromFile = resolveConfig(loadServeSettings(['--config', file], {}));
      expect([fromFile.stateUrl, fromFile.stateDir]).toEqual(['postgres://keepdav@db.example/keepdav', join(dir, 'shared-state')]);
      expect(() => resolveConfig(loadServeSettings(['--root', dir, '--state', 'postgres://u:pw@host/'], {}))).toThrow(ConfigError);
      expect(() => resolveConfig(loadServeSettings(['--root', dir, '--state', 'postgres://u:pw@host/'], {}))).toThrow(/no database.*/);
      expect(() => resolveConfig(loadServeSettings(['--root', dir, '--state', 'postgres://u:pw@host/'], {}))).not.toThrow(/pw/);
      expect(resolveConfig(loadServeSettings(['--root', dir], {})).stateUrl).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
