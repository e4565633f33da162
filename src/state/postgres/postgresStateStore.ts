/**
 * The StateStore (src/state/stateStore.ts) over PostgreSQL: the shared state of several keepdav
 * instances on one root (issue 12, README "Several instances"). Chosen with
 * `--state postgres://user@host/db`. One database is one truth for every decision: locks, dead
 * properties, version records, the intent journal, the retention index, running tree operations
 * and stale-upload refusals, judged by the database's clock.
 *
 * Two pools: `queries` for statements and transactions, `claims` for the pinned connections that
 * hold the session advisory locks of write claims (a holder waiting for a neighbour's claim never
 * starves the statements of the holder it waits for).
 */
import type { Pool, PoolClient } from 'pg';
import type { DavPath } from '../../paths/davPath';
import type { MemberRecords, StateAccess, StateStore } from '../stateStore';
import { connect, openPool, sqlOver, isConnectionLoss, type Sql } from './connection';
import { StateUnavailableError, redactUrl } from './stateUrl';
import { migrate } from './schema';
import { lockRecords, type Atomic } from './lockRecords';
import { propertyRecords, versionRecords, recordsOfMembers, VersionCache } from './pathRecords';
import { retentionRecords } from './retentionRecords';
import { journalRecords, refusalRecords } from './journalAndRefusals';
import { PostgresWriteClaims } from './writeClaims';
import { ADVISORY_NAMESPACE } from './advisoryLocks';
import { InstanceLease, DEFAULT_LEASE, type LeaseTimes, type AdoptedInstance } from './lease';

export interface PostgresStoreOptions {
  lease?: LeaseTimes;
  /** Connections for statements (default 10) and for write claims (default 20). */
  poolSize?: { queries: number; claims: number };
  /** A test clock: keepdav_now_ms() answers it instead of the database clock (schema.ts). Never set in production. */
  clock?: () => number;
  /** Told when this instance was declared dead while cut off from the database: it must stop writing. */
  onFenced?: (reason: string) => void;
}

/** The state database cannot be opened at start (unreachable, refused, not migratable). */
export class StateDatabaseError extends Error {
  constructor(url: string, cause: unknown) {
    super(`--state ${redactUrl(url)}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StateDatabaseError';
  }
}

async function inTransaction<T>(client: PoolClient, begin: string, commit: string, rollback: string, work: () => Promise<T>): Promise<T> {
  const sql = sqlOver(client);
  await sql.count(begin);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await sql.count(rollback).catch(() => undefined);
    throw err;
  }
  await sql.count(commit);
  return result;
}

/** Opens `n` connections of `pool` now, so the first requests do not each wait for a new one. */
async function warm(pool: Pool, n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => connect(pool)));
  for (const client of clients) client.release();
}

/** The data members over `sql`; `atomic` makes a multi-statement member one transaction (or savepoint). */
function accessOver(sql: Sql, atomic: Atomic, instanceId: string, transaction: StateAccess['transaction'], cache: VersionCache | null = null): StateAccess {
  return {
    locks: lockRecords(sql, atomic),
    properties: propertyRecords(sql, atomic),
    versions: versionRecords(sql, atomic, cache),
    journal: journalRecords(sql, instanceId),
    retention: retentionRecords(sql, atomic, instanceId),
    refusals: refusalRecords(sql),
    recordsOfMembers: (paths) => recordsOfMembers(sql, paths),
    async now() {
      const [row] = await sql.rows<{ now: number }>('SELECT keepdav_now_ms() AS now');
      return row.now;
    },
    transaction,
  };
}

/** A set that knows every storage path: a sweep over it removes nothing. */
class EveryStorage extends Set<string> {
  override has(): boolean {
    return true;
  }
}

export class PostgresStateStore implements StateStore {
  readonly locks;
  readonly properties;
  readonly versions;
  readonly journal;
  readonly retention;
  readonly refusals;
  readonly claims: PostgresWriteClaims;
  private readonly access: StateAccess;
  private readonly open = new Set<Promise<unknown>>();
  /** Version records this instance read or wrote, validated by each file's fingerprint (GET without a round trip). */
  private readonly versionCache = new VersionCache();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly queries: Pool,
    private readonly claimsPool: Pool,
    readonly lease: InstanceLease,
    private readonly clock: (() => number) | undefined,
  ) {
    const sql = this.guarded(sqlOver(queries, clock));
    this.access = accessOver(sql, (work) => this.transactionOn(work), lease.id, (work) => this.transaction(work), this.versionCache);
    ({ locks: this.locks, properties: this.properties, versions: this.versions, journal: this.journal, retention: this.retention, refusals: this.refusals } = this.access);
    this.claims = new PostgresWriteClaims(claimsPool, sql, lease.id, clock, () => lease.fencedBecause);
  }

  /** Connects, migrates the schema (numbered migrations, schema.ts) and registers this instance's lease. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStateStore> {
    const size = options.poolSize ?? { queries: 10, claims: 20 };
    const queries = openPool(url, size.queries, 'keepdav');
    const claimsPool = openPool(url, size.claims, 'keepdav claims');
    try {
      const client = await connect(queries);
      try {
        await migrate(client);
      } finally {
        client.release();
      }
      await Promise.all([warm(queries, 2), warm(claimsPool, 2)]);
      const lease = await InstanceLease.register(queries, options.lease ?? DEFAULT_LEASE, options.onFenced ?? (() => undefined));
      return new PostgresStateStore(queries, claimsPool, lease, options.clock);
    } catch (err) {
      await Promise.allSettled([queries.end(), claimsPool.end()]);
      throw new StateDatabaseError(url, err instanceof StateUnavailableError ? err.cause : err);
    }
  }

  get instanceId(): string {
    return this.lease.id;
  }

  recordsOfMembers(paths: readonly DavPath[]): Promise<MemberRecords> {
    return this.access.recordsOfMembers(paths);
  }

  now(): Promise<number> {
    return this.access.now();
  }

  transaction<T>(work: (tx: StateAccess) => Promise<T>): Promise<T> {
    return this.transactionAs(this.lease.id, work);
  }

  private transactionAs<T>(instanceId: string, work: (tx: StateAccess) => Promise<T>): Promise<T> {
    return this.transactionOn(async (sql) => work(this.nested(sql, 1, instanceId)));
  }

  /**
   * The store as the dead instance `instanceId` saw it, for recovering its work (lease.ts): its
   * journal's and retention's pending rows are that instance's. It never sweeps the retention
   * directory (every storage counts as known), since live neighbours may be keeping bytes meanwhile.
   */
  recoveryView(instanceId: string): StateStore {
    const sql = this.guarded(sqlOver(this.queries, this.clock));
    const access = accessOver(sql, (work) => this.transactionOn(work), instanceId, (work) => this.transactionAs(instanceId, work));
    const storagePaths = async () => new EveryStorage();
    return {
      ...access,
      retention: { ...access.retention, storagePaths },
      claims: this.claims,
      probeWrite: () => this.probeWrite(),
      close: async () => undefined,
    };
  }

  /** One connection, BEGIN ... COMMIT (ROLLBACK when `work` rejects). */
  private transactionOn<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('the state store is closed'));
    const running = (async () => {
      const client = await connect(this.queries);
      let broken = false;
      try {
        const sql = sqlOver(client, this.clock);
        return await inTransaction(client, 'BEGIN', 'COMMIT', 'ROLLBACK', async () => {
          // Transactions serialize across instances (stateStore.ts: no lost update between read and write).
          await sql.rows('SELECT pg_advisory_xact_lock($1, 0)', [ADVISORY_NAMESPACE.transaction]);
          return work(sql);
        });
      } catch (err) {
        broken = isConnectionLoss(err);
        throw err;
      } finally {
        client.release(broken);
      }
    })();
    this.open.add(running);
    void running.catch(() => undefined).finally(() => this.open.delete(running));
    return running;
  }

  /** The access of a transaction at savepoint depth `depth`: its multi-statement members and nested transactions are savepoints. */
  private nested(sql: Sql, depth: number, instanceId: string): StateAccess {
    const savepoint = <T>(work: (inner: Sql) => Promise<T>, name: string) =>
      sql.count(`SAVEPOINT ${name}`).then(async () => {
        try {
          const result = await work(sql);
          await sql.count(`RELEASE SAVEPOINT ${name}`);
          return result;
        } catch (err) {
          await sql.count(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
          throw err;
        }
      });
    return accessOver(
      sql,
      (work) => savepoint(work, `member_${depth}`),
      instanceId,
      (work) => savepoint(() => work(this.nested(sql, depth + 1, instanceId)), `tx_${depth}`),
    );
  }

  /** Statements on a closed store reject. */
  private guarded(sql: Sql): Sql {
    const check = () => {
      if (this.closing) throw new Error('the state store is closed');
    };
    return {
      rows: async (text, values) => (check(), sql.rows(text, values)),
      count: async (text, values) => (check(), sql.count(text, values)),
    };
  }

  async probeWrite(): Promise<void> {
    await this.guarded(sqlOver(this.queries)).count(
      'INSERT INTO readiness_probe (instance_id, checked_at) VALUES ($1, now()) ON CONFLICT (instance_id) DO UPDATE SET checked_at = excluded.checked_at',
      [this.lease.id],
    );
  }

  /** The dead instances whose work this one must recover now (lease.ts); `finishAdoption` after recovering. */
  adoptDeadInstances(atStart = false): Promise<AdoptedInstance[]> {
    return this.lease.adoptDead(atStart);
  }

  finishAdoption(adopted: AdoptedInstance): Promise<void> {
    return this.lease.finish(adopted);
  }

  abandonAdoption(adopted: AdoptedInstance): void {
    this.lease.abandon(adopted);
  }

  /** The value of `key` in state_meta (the root identity), or null. */
  async meta(key: string): Promise<string | null> {
    const rows = await sqlOver(this.queries).rows<{ value: string }>('SELECT value FROM state_meta WHERE key = $1', [key]);
    return rows[0]?.value ?? null;
  }

  /** Sets `key` unless it is set already; returns the value stored (the first writer's, when several instances start together). */
  async claimMeta(key: string, value: string): Promise<string> {
    await sqlOver(this.queries).count('INSERT INTO state_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.meta(key)) ?? value;
  }

  private readonly closeHooks: Array<() => void> = [];

  /** Runs `hook` when the store closes (timers of the server's recovery loop). */
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const hook of this.closeHooks) hook();
      await Promise.allSettled([...this.open]);
      this.claims.close();
      await this.lease.close();
      await Promise.allSettled([this.queries.end(), this.claimsPool.end()]);
    })();
    return this.closing;
  }
}
