/**
 * WriteClaims across instances (architecture rule 5). Within this process a PathMutex orders the
 * holders (first come, first served, no connection held while waiting behind a neighbour); across
 * instances each holder then takes the session advisory locks of its paths on a pinned connection
 * of the claims pool (advisoryLocks.ts: shared on ancestors, exclusive on the targets, one fixed
 * order), and releases them when its action ends. A process that dies holding them loses its
 * session, and with it the locks.
 *
 * Long COPY/MOVE/DELETE operations are rows of `tree_operations`, visible to every instance: a
 * claim overlapping one is refused at once with OperationInProgressError (423), also after the
 * instance running it died, until a live instance has recovered its intent (lease.ts).
 */
import type { Pool, PoolClient } from 'pg';
import { PathMutex, OperationInProgressError, type PathClaim, type RunningOperation } from '../../concurrency/pathMutex';
import { isSameOrInside, type DavPath } from '../../paths/davPath';
import type { WriteClaims } from '../stateStore';
import { planClaimLocks, takeLocksParams } from './advisoryLocks';
import { connect, isConnectionLoss, preparedStatement, type Sql } from './connection';
import { StateUnavailableError } from './stateUrl';
import { CommitOutstandingError } from '../../concurrency/outstandingCommit';

interface OperationRow {
  id: string;
  claim: string;
  tree: boolean;
  method: string;
  path: string;
  started_at_ms: number;
}

function overlaps(a: PathClaim, b: PathClaim): boolean {
  if (a.path === b.path) return true;
  return (a.tree && isSameOrInside(b.path, a.path)) || (b.tree && isSameOrInside(a.path, b.path));
}

export class PostgresWriteClaims implements WriteClaims {
  private readonly local: PathMutex;
  /** Pinned connections holding claims now (closed with the store). */
  private readonly holding = new Set<PoolClient>();
  /** This process's own running operations (the PathMutex answers for those). */
  private readonly own = new Set<string>();
  /** Rows of finished operations whose removal failed (the database was away): removed at the next claim. */
  private readonly finished = new Set<string>();

  constructor(
    private readonly claimsPool: Pool,
    private readonly sql: Sql,
    private readonly instanceId: string,
    clock: () => number = Date.now,
    private readonly fencedBecause: () => string | null = () => null,
  ) {
    this.local = new PathMutex(clock);
  }

  run<T>(claims: readonly PathClaim[], action: () => Promise<T>, operation?: Omit<RunningOperation, 'startedAtMs'>): Promise<T> {
    return this.local.run([...claims], () => this.runShared(claims, action, operation), operation);
  }

  /** This process's operations at once (from the moment `run` is called), and every other instance's from the database. */
  async running(): Promise<RunningOperation[]> {
    const local = this.local.running();
    const ids = new Set(local.map((o) => o.id));
    const others = new Map<string, RunningOperation>();
    for (const row of await this.operations()) if (!ids.has(row.id) && !this.own.has(row.id)) others.set(row.id, toRunning(row));
    return [...local, ...others.values()].sort((a, b) => a.startedAtMs - b.startedAtMs);
  }

  /** This process's operations at once, every other instance's (and this one's whose record waits, outstandingCommit.ts) from the database. */
  async operationOver(path: DavPath): Promise<boolean> {
    if (this.local.operationOver(path)) return true;
    const [row] = await this.sql.rows<{ over: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM tree_operations WHERE claim = $1 OR (tree AND (claim = '/' OR starts_with($1, claim || '/')))) AS over`,
      [path],
    );
    return row.over;
  }

  /** Ends every held claim's session (the store closes); the actions still running lose their exclusion. */
  close(): void {
    for (const client of this.holding) client.release(true);
    this.holding.clear();
  }

  private async operations(): Promise<OperationRow[]> {
    await this.forgetFinished();
    return this.sql.rows<OperationRow>('SELECT id, claim, tree, method, path, started_at_ms FROM tree_operations ORDER BY started_at_ms, id');
  }

  /** Removes the row of a finished operation; when that fails (the database went away) it goes with the next claim (other instances answer 423 meanwhile). */
  private async forgetOperation(id: string): Promise<void> {
    await this.sql.count('DELETE FROM tree_operations WHERE id = $1', [id]).catch(() => this.finished.add(id));
  }

  /** Removes the rows of finished operations whose removal failed earlier. */
  private async forgetFinished(): Promise<void> {
    if (this.finished.size === 0) return;
    const ids = [...this.finished];
    await this.sql.count('DELETE FROM tree_operations WHERE id = ANY($1::text[])', [ids]);
    for (const id of ids) this.finished.delete(id);
  }

  private async runShared<T>(claims: readonly PathClaim[], action: () => Promise<T>, operation?: Omit<RunningOperation, 'startedAtMs'>): Promise<T> {
    // An instance declared dead while cut off must not write beside the one that recovered its work (503 until restarted).
    const fenced = this.fencedBecause();
    if (fenced !== null) throw new StateUnavailableError(new Error(`this instance lost its lease (${fenced}); restart it`));
    await this.forgetFinished();
    const client = await connect(this.claimsPool);
    this.holding.add(client);
    let broken = false;
    let recorded = false;
    let outstanding: Promise<void> | null = null;
    try {
      let inTheWay: OperationRow | undefined;
      try {
        // One round trip (keepdav_claim, schema.ts migration 3): an operation of another instance
        // (or of a dead one not yet recovered) in the way refuses at once; else the advisory locks,
        // then the same look again.
        const [keys, exclusive] = takeLocksParams(planClaimLocks(claims.map((c) => c.path)));
        const { rows } = await client.query<OperationRow>(preparedStatement(CLAIM_SQL, [keys, exclusive, claims.map((c) => c.path), claims.map((c) => c.tree), [...this.own]]));
        inTheWay = rows[0];
      } catch (err) {
        broken = isConnectionLoss(err);
        throw broken ? new StateUnavailableError(err) : err;
      }
      if (inTheWay) throw new OperationInProgressError(toRunning(inTheWay));
      if (operation) {
        await this.sql.count(
          `INSERT INTO tree_operations (id, claim, tree, instance_id, method, path, started_at_ms)
           SELECT $1, c.claim, c.tree, $4, $5, $6, keepdav_now_ms() FROM unnest($2::text[], $3::boolean[]) AS c(claim, tree)
           ON CONFLICT DO NOTHING`,
          [operation.id, claims.map((c) => c.path), claims.map((c) => c.tree), this.instanceId, operation.method, operation.path],
        );
        this.own.add(operation.id);
        recorded = true;
      }
      return await action();
    } catch (err) {
      if (err instanceof CommitOutstandingError) outstanding = err.settled;
      throw err;
    } finally {
      if (recorded && operation) {
        const { id } = operation;
        this.own.delete(id);
        // Its files changed but their record waits for the database (outstandingCommit.ts): the row
        // keeps every instance, this one too, out of its trees until the record is made. If it
        // never is (this process ends first), the row stays for the recovery of this instance.
        if (outstanding) void outstanding.then(() => this.forgetOperation(id), () => undefined);
        else await this.forgetOperation(id);
      }
      // Given up without waiting for the answer: the action is over, and the next claim on another
      // instance only waits for the unlock to land. (Not held any more when close() ended its session already.)
      if (this.holding.delete(client)) void releaseClaim(client, broken);
    }
  }
}

/** Gives the claim's advisory locks up and the connection back; a broken one is closed, which ends its locks too. */
async function releaseClaim(client: PoolClient, broken: boolean): Promise<void> {
  if (broken) return client.release(true);
  try {
    await client.query('SELECT pg_advisory_unlock_all()');
    client.release();
  } catch {
    client.release(true);
  }
}

const CLAIM_SQL = 'SELECT id, claim, tree, method, path, started_at_ms FROM keepdav_claim($1::bigint[], $2::boolean[], $3::text[], $4::boolean[], $5::text[])';

function toRunning(row: OperationRow): RunningOperation {
  return { id: row.id, method: row.method, path: row.path, startedAtMs: row.started_at_ms };
}
