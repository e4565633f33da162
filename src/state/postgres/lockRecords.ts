/**
 * LockRecords over PostgreSQL. Expiry is judged by the database clock (keepdav_now_ms()), never
 * a host's. The conflict check and the insert of a new lock run in one statement
 * (keepdav_lock_grant, schema.ts migration 2) that first takes the transaction-scoped advisory
 * locks of state transactions and of the lock table, so of any number of concurrent
 * conflicting LOCK requests on any instances exactly one is granted (a check-then-insert without
 * it would let two through, as SabreDAV's PDO backend does). A LOCK that takes no write claim of
 * its own is granted by keepdav_lock_grant_unclaimed (migration 4), which first tries the
 * claim's advisory locks and looks at the running operations, in the same statement. Every
 * look-up of live locks is a function of migration 6 (lockStatements.ts), which keeps it on an
 * index while the table churns.
 */
import type { ActiveLock, LockClaimed, LockGrant, LockRecords, NewLock, PathClaim } from '../stateStore';
import type { DavPath } from '../../paths/davPath';
import { subtreeBounds } from '../subtree';
import { lockCovers } from '../../locks/activeLock';
import { ancestorsOf, planClaimLocks, takeLocksParams } from './advisoryLocks';
import type { Sql } from './connection';
import { liveLockAt } from './lockStatements';

const COLUMNS = 'token, root, scope, depth, owner, timeout_seconds, expires_at_ms, created_at_ms, principal';

interface LockRow {
  token: string;
  root: string;
  scope: ActiveLock['scope'];
  depth: ActiveLock['depth'];
  owner: string | null;
  timeout_seconds: number | null;
  expires_at_ms: number | null;
  created_at_ms: number;
  principal: string | null;
}

function toLock(row: LockRow): ActiveLock {
  return {
    token: row.token,
    root: row.root,
    scope: row.scope,
    depth: row.depth,
    owner: row.owner,
    timeoutSeconds: row.timeout_seconds ?? Infinity,
    expiresAtMs: row.expires_at_ms ?? Infinity,
    createdAtMs: row.created_at_ms,
    ...(row.principal !== null ? { principal: row.principal } : {}),
  };
}

/** Seconds as stored: NULL stands for Infinite. */
const finite = (seconds: number): number | null => (Number.isFinite(seconds) ? seconds : null);

/** keepdav_lock_grant's ten parameters, numbered from `first`: $first, ... (the timeout and the ancestors typed). */
function grantParams(first: number): string {
  const typed: Record<number, string> = { 5: '::double precision', 7: '::text[]' };
  return Array.from({ length: 10 }, (_, i) => `$${first + i}${typed[i] ?? ''}`).join(', ');
}

/** keepdav_lock_grant's arguments for `lock`. */
function grantValues(lock: NewLock): unknown[] {
  const { lower, upper } = subtreeBounds(lock.root);
  return [lock.token, lock.root, lock.scope, lock.depth, lock.owner, finite(lock.timeoutSeconds), lock.principal ?? null, ancestorsOf(lock.root), lower, upper];
}

/** The grant's row is the new lock, or the first lock in its way. */
function outcomeOf(row: LockRow, lock: NewLock): LockGrant {
  return row.token === lock.token ? { granted: toLock(row) } : { conflict: toLock(row) };
}

/** `atomic(work)`: work on one connection in one transaction (or inside the caller's). */
export type Atomic = <T>(work: (sql: Sql) => Promise<T>) => Promise<T>;

export function lockRecords(sql: Sql, atomic: Atomic): LockRecords {
  /** covering() of each path in one statement; covering() is its one-path case. */
  const coveringEach = async (paths: readonly DavPath[]): Promise<ActiveLock[][]> => {
    if (paths.length === 0) return [];
    const ancestors = [...new Set(paths.flatMap((path) => ancestorsOf(path)))];
    const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_locks_covering($1::text[], $2::text[])`, [[...paths], ancestors]);
    const locks = rows.map(toLock);
    return paths.map((path) => locks.filter((lock) => lockCovers(lock, path)));
  };
  return {
    async insertUnlessConflicting(lock: NewLock): Promise<LockGrant> {
      // One round trip (migration 2, keepdav_lock_grant): the advisory locks of state transactions
      // and of the lock table, the conflict check and the insert, in one statement's transaction
      // (or inside the caller's). RFC 4918 §6.1, §9.10.3 (wouldConflict): locks covering the root,
      // and for depth infinity those below it; shared meets shared freely.
      const [row] = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_lock_grant(${grantParams(1)})`, grantValues(lock));
      return outcomeOf(row, lock);
    },
    async insertUnlessClaimedOrConflicting(lock: NewLock, claims: readonly PathClaim[]): Promise<LockGrant | LockClaimed> {
      // One round trip (migration 4, keepdav_lock_grant_unclaimed): the claim's advisory locks tried
      // without waiting (a writer holding one is at work there), the running operations looked at,
      // then keepdav_lock_grant; no row when claimed.
      const [keys, exclusive] = takeLocksParams(planClaimLocks(claims.map((c) => c.path)));
      const rows = await sql.rows<LockRow>(
        `SELECT ${COLUMNS} FROM keepdav_lock_grant_unclaimed($1::bigint[], $2::boolean[], $3::text[], $4::boolean[], ${grantParams(5)})`,
        [keys, exclusive, claims.map((c) => c.path), claims.map((c) => c.tree), ...grantValues(lock)],
      );
      return rows.length === 0 ? { claimed: true } : outcomeOf(rows[0], lock);
    },
    async refresh(token, timeoutSeconds) {
      const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_lock_refresh($1, $2::double precision)`, [token, finite(timeoutSeconds)]);
      return rows.length > 0 ? toLock(rows[0]) : null;
    },
    async release(token) {
      const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_lock_release($1, NULL, NULL, NULL)`, [token]);
      return rows.length > 0 ? toLock(rows[0]) : null;
    },
    async releaseOwned(token, path, principal) {
      // One round trip: the token, that it applies to the path (lockCovers) and who took it, checked by the delete itself.
      const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_lock_release($1, $2, $3::text[], $4)`, [token, path, ancestorsOf(path), principal]);
      return rows.length > 0 ? toLock(rows[0]) : null;
    },
    async byToken(token) {
      const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_lock_by_token($1)`, [token]);
      return rows.length > 0 ? toLock(rows[0]) : null;
    },
    async covering(path: DavPath) {
      return (await coveringEach([path]))[0];
    },
    coveringEach,
    async within(path: DavPath) {
      const { lower, upper } = subtreeBounds(path);
      const rows = await sql.rows<LockRow>(`SELECT ${COLUMNS} FROM keepdav_locks_within($1, $2, $3)`, [path, lower, upper]);
      return rows.map(toLock);
    },
    async removeWithin(path: DavPath) {
      const { lower, upper } = subtreeBounds(path);
      const rows = await sql.rows<{ active: boolean }>(
        `DELETE FROM locks WHERE root = $1 OR (root >= $2 AND root < $3) RETURNING ${liveLockAt('locks')} AS active`,
        [path, lower, upper],
      );
      return rows.filter((r) => r.active).length;
    },
    purgeExpired() {
      return sql.count('DELETE FROM locks WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= keepdav_now_ms()');
    },
  };
}
