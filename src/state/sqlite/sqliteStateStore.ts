/**
 * The embedded StateStore: one SQLite database file under the state directory (opened by
 * state/openCheckedDatabase.ts), owned by this one process (state/stateOwnership.ts). Its schema
 * is state/sqlite/schema.ts; statements are prepared once, here and in the record modules.
 *
 * better-sqlite3 is synchronous, so each member is one uninterrupted step; `transaction` spans
 * awaits through the TransactionGate, which holds other callers back until it ends. The clock is
 * the injected one (the server's `clock` option), so tests move time instead of sleeping. Write
 * exclusion is the in-process PathMutex: one process owns the embedded state.
 */
import type Database from 'better-sqlite3';
import { PathMutex } from '../../concurrency/pathMutex';
import type { DavPath } from '../../paths/davPath';
import type { MemberRecords, StateAccess, StateStore, WriteClaims } from '../stateStore';
import { commonSubtree, subtreeBounds } from '../subtree';
import { migrate } from './schema';
import { TransactionGate, viewWith } from './transactionGate';
import { SqliteLockRecords } from './sqliteLocks';
import { SqlitePropertyRecords } from './sqliteProperties';
import { SqliteVersionRecords } from './sqliteVersions';
import { SqliteIntentJournal } from './sqliteJournal';
import { SqliteRetentionRecords } from './sqliteRetention';
import { MemoryRefusalRecords } from './memoryRefusals';

export interface SqliteStateOptions {
  /** The authority's clock (ms); Date.now by default. */
  clock?: () => number;
  /** How long refusals and deletions are worth keeping (the caller's window); 10 minutes by default. */
  refusalKeepMs?: number;
}

export class SqliteStateStore implements StateStore {
  readonly locks: SqliteLockRecords;
  readonly properties: SqlitePropertyRecords;
  readonly versions: SqliteVersionRecords;
  readonly journal: SqliteIntentJournal;
  readonly retention: SqliteRetentionRecords;
  readonly refusals: MemoryRefusalRecords;
  readonly claims: WriteClaims;
  private readonly gate: TransactionGate;
  private readonly clock: () => number;
  private readonly probe: Database.Statement;
  private closing: Promise<void> | null = null;
  /** What a transaction's work sees: the same records, their steps run at once (TransactionGate.inside). */
  private readonly inTransaction: StateAccess;

  /**
   * Migrates `db` to the current schema (schema.ts) and loads the lock index. Throws the driver's
   * error for an unusable database, NewerSchemaError for a newer one, CorruptLockRowError for a
   * lock row that is no lock. The store owns `db` from then on: close() closes it.
   */
  constructor(private readonly db: Database.Database, options: SqliteStateOptions = {}) {
    migrate(db);
    const clock = options.clock ?? Date.now;
    this.clock = () => {
      const now = clock();
      if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError('the state clock returned no finite time');
      return now;
    };
    this.gate = new TransactionGate(db);
    const mutex = new PathMutex(this.clock);
    this.locks = new SqliteLockRecords(db, this.gate, this.clock, (claims) => mutex.meetsHolder(claims));
    this.properties = new SqlitePropertyRecords(db, this.gate);
    this.versions = new SqliteVersionRecords(db, this.gate);
    this.journal = new SqliteIntentJournal(db, this.gate);
    this.retention = new SqliteRetentionRecords(db, this.gate);
    this.refusals = new MemoryRefusalRecords(this.gate, this.clock, options.refusalKeepMs);
    this.claims = {
      run: (claims, action, operation) => mutex.run(claims, action, operation),
      running: async () => mutex.running(),
      operationOver: async (path) => mutex.operationOver(path),
    };
    this.probe = db.prepare('INSERT OR REPLACE INTO readiness_probe (id, checked_at) VALUES (1, ?)');
    const inside = this.gate.inside;
    const properties = viewWith(this.properties, inside);
    const versions = viewWith(this.versions, inside);
    const view: StateAccess = {
      locks: viewWith(this.locks, inside),
      properties,
      versions,
      journal: viewWith(this.journal, inside),
      retention: viewWith(this.retention, inside),
      refusals: viewWith(this.refusals, inside),
      recordsOfMembers: (paths) => recordsOfMembers(properties, versions, paths),
      now: () => inside.call(this.clock),
      transaction: (work) => this.gate.savepoint(() => work(view)),
    };
    this.inTransaction = view;
  }

  recordsOfMembers(paths: readonly DavPath[]): Promise<MemberRecords> {
    return recordsOfMembers(this.properties, this.versions, paths);
  }

  now(): Promise<number> {
    return this.gate.outside.call(this.clock);
  }

  transaction<T>(work: (tx: StateAccess) => Promise<T>): Promise<T> {
    return this.gate.transaction(() => work(this.inTransaction));
  }

  probeWrite(): Promise<void> {
    return this.gate.outside.call(() => {
      if (!this.db.open) throw new Error('closed');
      this.probe.run(this.clock());
    });
  }

  close(): Promise<void> {
    this.closing ??= this.gate.drain().then(() => {
      if (this.db.open) this.db.close();
    });
    return this.closing;
  }
}

/**
 * Both lookups in one step of `properties`' runner (the store's, or a transaction's, the same for
 * `versions`): nothing written between them, as PostgreSQL's one statement sees one snapshot. The
 * batch's common subtree, which each table probes first, is worked out once for both.
 */
function recordsOfMembers(properties: SqlitePropertyRecords, versions: SqliteVersionRecords, paths: readonly DavPath[]): Promise<MemberRecords> {
  return properties.gate.call(() => {
    if (paths.length === 0) return { dead: new Map(), versions: new Map() };
    const within = subtreeBounds(commonSubtree(paths));
    return { dead: properties.deadPropertiesOf(paths, within), versions: versions.recordsOf(paths, within) };
  });
}
