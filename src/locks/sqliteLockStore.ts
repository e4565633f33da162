/**
 * LockStore over the embedded SQLite state database (src/state/database.ts). Every call is one
 * synchronous statement or transaction, so the manager's check-then-write never yields.
 */
import type Database from 'better-sqlite3';
import type { StateDatabase } from '../state/database';
import { ActiveLock, assertDavPath, isLockDepth, isLockScope } from './activeLock';
import type { LockStore } from './lockStore';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS locks (
  token           TEXT PRIMARY KEY NOT NULL,
  root            TEXT NOT NULL,
  scope           TEXT NOT NULL CHECK (scope IN ('exclusive', 'shared')),
  depth           TEXT NOT NULL CHECK (depth IN ('0', 'infinity')),
  owner           TEXT,
  timeout_seconds REAL,          -- NULL means Infinite
  expires_at_ms   REAL,          -- NULL means never
  created_at_ms   REAL NOT NULL,
  principal       TEXT           -- the signed-in user who took it; NULL: anonymous
)`;

/** Databases made before users existed lack the principal column: add it, keeping every row (their locks stay anonymous). */
function migrate(db: StateDatabase): void {
  const columns = db.prepare('PRAGMA table_info(locks)').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'principal')) db.exec('ALTER TABLE locks ADD COLUMN principal TEXT');
}

interface LockRow {
  token: unknown;
  root: unknown;
  scope: unknown;
  depth: unknown;
  owner: unknown;
  timeout_seconds: unknown;
  expires_at_ms: unknown;
  created_at_ms: unknown;
  principal: unknown;
}

/** Thrown by loadAll when a stored row cannot be a lock: better to refuse to start than to drop a lock. */
export class CorruptLockRowError extends Error {
  constructor(readonly token: unknown, readonly reason: string) {
    super(`corrupt row in table locks (token ${String(token)}): ${reason}`);
    this.name = 'CorruptLockRowError';
  }
}

export class SqliteLockStore implements LockStore {
  private readonly selectAll: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly removeMany: (tokens: readonly string[]) => void;

  /** Creates the table `locks` if it is missing; throws the driver's error when the database is unusable. */
  constructor(db: StateDatabase) {
    db.exec(SCHEMA);
    migrate(db);
    this.selectAll = db.prepare('SELECT * FROM locks ORDER BY created_at_ms, token');
    this.upsert = db.prepare(`
      INSERT INTO locks (token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms, principal)
      VALUES (@token, @root, @scope, @depth, @owner, @timeoutSeconds, @expiresAtMs, @createdAtMs, @principal)
      ON CONFLICT (token) DO UPDATE SET
        root = excluded.root, scope = excluded.scope, depth = excluded.depth, owner = excluded.owner,
        timeout_seconds = excluded.timeout_seconds, expires_at_ms = excluded.expires_at_ms,
        created_at_ms = excluded.created_at_ms, principal = excluded.principal`);
    this.deleteOne = db.prepare('DELETE FROM locks WHERE token = ?');
    this.removeMany = db.transaction((tokens: readonly string[]) => {
      for (const token of tokens) this.deleteOne.run(token);
    });
  }

  /** Returns every stored lock; throws CorruptLockRowError on a row that is no valid lock. */
  loadAll(): ActiveLock[] {
    return (this.selectAll.all() as LockRow[]).map(rowToLock);
  }

  save(lock: ActiveLock): void {
    this.upsert.run({
      token: lock.token,
      root: lock.root,
      scope: lock.scope,
      depth: lock.depth,
      owner: lock.owner,
      timeoutSeconds: finiteOrNull(lock.timeoutSeconds),
      expiresAtMs: finiteOrNull(lock.expiresAtMs),
      createdAtMs: lock.createdAtMs,
      principal: lock.principal ?? null,
    });
  }

  remove(tokens: readonly string[]): void {
    if (tokens.length > 0) this.removeMany(tokens);
  }
}

/** Infinity has no SQL spelling that survives every driver; NULL stands for it. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function numberOrInfinity(value: unknown, token: unknown, column: string): number {
  if (value === null) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new CorruptLockRowError(token, `${column} is not a number`);
  return value;
}

function rowToLock(row: LockRow): ActiveLock {
  const { token, root, scope, depth, owner } = row;
  if (typeof token !== 'string' || token === '') throw new CorruptLockRowError(token, 'token is not a string');
  try {
    assertDavPath(root);
  } catch {
    throw new CorruptLockRowError(token, 'root is not a valid path');
  }
  if (!isLockScope(scope)) throw new CorruptLockRowError(token, 'bad scope');
  if (!isLockDepth(depth)) throw new CorruptLockRowError(token, 'bad depth');
  if (owner !== null && typeof owner !== 'string') throw new CorruptLockRowError(token, 'owner is not text');
  if (typeof row.created_at_ms !== 'number') throw new CorruptLockRowError(token, 'created_at_ms is not a number');
  if (row.principal !== null && typeof row.principal !== 'string') throw new CorruptLockRowError(token, 'principal is not text');
  return {
    token,
    root,
    scope,
    depth,
    owner,
    timeoutSeconds: numberOrInfinity(row.timeout_seconds, token, 'timeout_seconds'),
    expiresAtMs: numberOrInfinity(row.expires_at_ms, token, 'expires_at_ms'),
    createdAtMs: row.created_at_ms,
    ...(typeof row.principal === 'string' ? { principal: row.principal } : {}),
  };
}
