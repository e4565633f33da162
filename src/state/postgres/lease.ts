/**
 * Each instance sharing the state holds a lease: a row in `instances`, renewed by a heartbeat,
 * and a session advisory lock (namespace liveness, its own key) held on a dedicated connection
 * for as long as it lives. When the process dies, even by kill -9, its database session closes and
 * the lock is released at once; a paused process (SIGSTOP) keeps its session, so its lock, and is
 * never declared dead.
 *
 * An instance is dead when its liveness lock is free and its heartbeat is older than `leaseMs`
 * (the heartbeat condition lets a live instance reconnect after a database restart before anyone
 * declares it dead). A live instance adopts a dead one under its liveness lock (so only one
 * adopts), recovers its journaled intents and pending retention rows (TreeOperations.recover over
 * a recovery view), then removes its running tree operations (423 until then) and its row. An instance that
 * reconnects to find its row gone was declared dead while cut off: it is told (`onFenced`) and
 * must stop writing.
 */
import type { Pool, PoolClient } from 'pg';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ADVISORY_NAMESPACE } from './advisoryLocks';
import { connect, sqlOver, isConnectionLoss } from './connection';

export interface LeaseTimes {
  /** How often the heartbeat renews the lease (and a lost liveness connection is re-established), ms. */
  heartbeatMs: number;
  /** A dead instance's claims are recovered by a live one within this time after its last heartbeat, ms. */
  leaseMs: number;
}

export const DEFAULT_LEASE: LeaseTimes = { heartbeatMs: 2_000, leaseMs: 10_000 };

/** A dead instance adopted by this one, until its recovery is finished. */
export interface AdoptedInstance {
  id: string;
  /** The ids of the tree operations it was running (423 for their trees until recovered). */
  operationIds: string[];
  /** Holds the dead instance's liveness lock while recovering it. */
  client: PoolClient;
  livenessKey: number;
}

export class InstanceLease {
  private client: PoolClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private reconnecting = false;
  /** When the liveness connection was (re)established (performance.now()). */
  private upSince = performance.now();

  private constructor(
    private readonly pool: Pool,
    readonly id: string,
    private readonly livenessKey: number,
    readonly times: LeaseTimes,
    private readonly onFenced: (reason: string) => void,
  ) {}

  /** Registers this instance (a new row) and takes its liveness lock. */
  static async register(pool: Pool, times: LeaseTimes, onFenced: (reason: string) => void): Promise<InstanceLease> {
    const client = await connect(pool);
    try {
      const id = randomUUID();
      const [{ key }] = (await client.query<{ key: number }>("SELECT nextval('instance_liveness_keys')::integer AS key")).rows;
      await client.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_NAMESPACE.liveness, key]);
      await client.query('INSERT INTO instances (id, host, pid, liveness_key) VALUES ($1, $2, $3, $4)', [id, hostname(), process.pid, key]);
      const lease = new InstanceLease(pool, id, key, times, onFenced);
      lease.client = client;
      lease.watch(client);
      lease.timer = setInterval(() => void lease.beat(), times.heartbeatMs);
      lease.timer.unref();
      return lease;
    } catch (err) {
      client.release(true);
      throw err;
    }
  }

  /** Records the URL this instance serves (for operators reading `instances`). */
  async recordUrl(url: string): Promise<void> {
    await sqlOver(this.pool).count('UPDATE instances SET url = $2 WHERE id = $1', [this.id, url]);
  }

  private watch(client: PoolClient): void {
    client.on('error', () => {
      if (this.client === client) {
        this.client = null;
        client.release(true);
      }
    });
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    if (this.client === null) return this.reconnect();
    try {
      const { rowCount } = await this.client.query('UPDATE instances SET heartbeat_at = now() WHERE id = $1', [this.id]);
      if (rowCount === 0) this.fence('its lease row is gone: another instance declared it dead and recovered its work');
    } catch (err) {
      if (isConnectionLoss(err) && this.client) {
        this.client.release(true);
        this.client = null;
      }
    }
  }

  /** After a lost connection (a database restart): the liveness lock again, and the row must still be ours. */
  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    let client: PoolClient | null = null;
    try {
      client = await connect(this.pool);
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [ADVISORY_NAMESPACE.liveness, this.livenessKey]);
      if (!rows[0].locked) {
        client.release(true);
        return this.fence('its liveness lock is held by another session (it was declared dead while cut off)');
      }
      const { rowCount } = await client.query('UPDATE instances SET heartbeat_at = now() WHERE id = $1', [this.id]);
      if (rowCount === 0) {
        client.release(true);
        return this.fence('its lease row is gone: another instance declared it dead and recovered its work');
      }
      this.client = client;
      this.upSince = performance.now();
      this.watch(client);
    } catch {
      client?.release(true);
    } finally {
      this.reconnecting = false;
    }
  }

  /** Why this instance lost its lease, or null while it holds it. */
  fencedBecause: string | null = null;

  private fence(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.fencedBecause = reason;
    if (this.timer) clearInterval(this.timer);
    this.onFenced(reason);
  }

  /**
   * Adopts every dead instance: holds its liveness lock (so no other instance adopts it too)
   * while the caller recovers its intents and pending retention rows through a recovery view
   * (PostgresStateStore.recoveryView), then `finish`. `atStart`: an instance whose liveness lock
   * is free is dead whatever its heartbeat (this process has just connected).
   */
  async adoptDead(atStart = false): Promise<AdoptedInstance[]> {
    // After a database outage every heartbeat is old: judge nobody before the others have had a lease's time to reconnect.
    if (!atStart && (this.client === null || performance.now() - this.upSince < this.times.leaseMs)) return [];
    const sql = sqlOver(this.pool);
    const candidates = await sql.rows<{ id: string; liveness_key: number }>(
      `SELECT id, liveness_key FROM instances WHERE id <> $1 AND ($2 OR heartbeat_at < now() - make_interval(secs => $3)) ORDER BY started_at`,
      [this.id, atStart, this.times.leaseMs / 1000],
    );
    const adopted: AdoptedInstance[] = [];
    for (const candidate of candidates) {
      const client = await connect(this.pool);
      let kept = false;
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [ADVISORY_NAMESPACE.liveness, candidate.liveness_key]);
        if (!rows[0].locked) continue; // alive (or being adopted by another instance)
        const ops = await client.query<{ id: string }>('SELECT DISTINCT id FROM tree_operations WHERE instance_id = $1 ORDER BY id', [candidate.id]);
        adopted.push({ id: candidate.id, operationIds: ops.rows.map((r) => r.id), client, livenessKey: candidate.liveness_key });
        kept = true;
      } finally {
        if (!kept) client.release(true);
      }
    }
    return adopted;
  }

  /** Gives an adopted instance up unrecovered (its recovery failed): another attempt adopts it again. */
  abandon(adopted: AdoptedInstance): void {
    adopted.client.release(true);
  }

  /** The adopted instance is recovered: its tree operations and its row go, and its liveness lock is released. */
  async finish(adopted: AdoptedInstance): Promise<void> {
    try {
      await adopted.client.query('BEGIN');
      await adopted.client.query('DELETE FROM tree_operations WHERE instance_id = $1', [adopted.id]);
      await adopted.client.query('DELETE FROM readiness_probe WHERE instance_id = $1', [adopted.id]);
      await adopted.client.query('DELETE FROM instances WHERE id = $1', [adopted.id]);
      await adopted.client.query('COMMIT');
      adopted.client.release();
    } catch (err) {
      adopted.client.release(true);
      throw err;
    }
  }

  /** Ends the lease: the row goes and the liveness lock with the session. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const wasFenced = this.closed;
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      if (!wasFenced) await client.query('DELETE FROM instances WHERE id = $1', [this.id]);
    } catch {
      // The database is gone: the row stays, and a live instance recovers nothing of ours (no intents are left).
    } finally {
      client.release(true);
    }
  }
}
