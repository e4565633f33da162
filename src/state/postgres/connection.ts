/**
 * Connections to the shared PostgreSQL state, through node-postgres (`pg`): it exposes a pinned
 * connection (a `PoolClient`), which the session advisory locks of write claims and the instance
 * lease need (they belong to one database session), and a pool for everything else.
 *
 * Every statement goes through `Sql`, which turns a lost or refused connection into
 * StateUnavailableError (the HTTP edge answers 503 with Retry-After, never 500) and returns rows.
 */
import { Pool, types, type PoolClient, type PoolConfig } from 'pg';
import { StateUnavailableError } from './stateUrl';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT']);

/**
 * Whether `err` means the database could not be reached or went away (as opposed to a statement
 * it refused): socket errors, SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown,
 * crash shutdown, cannot connect now), 53300 (too many connections), and node-postgres's own
 * "Connection terminated" errors.
 */
export function isConnectionLoss(err: unknown): boolean {
  if (err instanceof StateUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect/i.test(message);
}

function unavailableOr(err: unknown): unknown {
  return isConnectionLoss(err) && !(err instanceof StateUnavailableError) ? new StateUnavailableError(err) : err;
}

/** Something that runs statements: the pool (each statement on its own) or one pinned connection. */
export interface Sql {
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** The number of rows the statement touched. */
  count(text: string, values?: readonly unknown[]): Promise<number>;
}

type Queryable = Pick<Pool, 'query'> | PoolClient;

/** At most this many statement texts get a name (the texts are constants; a bound against a mistake). */
const MAX_NAMED_STATEMENTS = 500;
const statementNames = new Map<string, string>();

/**
 * The statement `text` with `values`, named so that each connection parses and plans it once:
 * node-postgres then sends only Bind/Execute for it, which halves the client's CPU per statement
 * (measured: 122 µs unnamed, 56 µs named). Statements without values keep the simple protocol,
 * which also runs several statements in one text (migrations).
 */
export function preparedStatement(text: string, values: readonly unknown[]): { text: string; values: unknown[]; name?: string } {
  if (values.length === 0) return { text, values: [] };
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) statementNames.set(text, (name = `keepdav_${statementNames.size + 1}`));
  return name === undefined ? { text, values: values as unknown[] } : { name, text, values: values as unknown[] };
}

/**
 * Statements over `target`. With `clock` (tests only) every statement first sets the session's
 * keepdav.now_ms, which keepdav_now_ms() (schema.ts) then answers instead of the database clock.
 */
export function sqlOver(target: Queryable, clock?: () => number): Sql {
  const run = async (text: string, values: readonly unknown[]) => {
    if (!clock) return target.query(preparedStatement(text, values));
    const pinned = 'release' in target ? null : await (target as Pool).connect();
    const on = pinned ?? (target as PoolClient);
    try {
      await on.query("SELECT set_config('keepdav.now_ms', $1, false)", [String(clock())]);
      return await on.query(preparedStatement(text, values));
    } finally {
      pinned?.release();
    }
  };
  return {
    async rows<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
      try {
        return (await run(text, values)).rows as R[];
      } catch (err) {
        throw unavailableOr(err);
      }
    },
    async count(text: string, values: readonly unknown[] = []): Promise<number> {
      try {
        return (await run(text, values)).rowCount ?? 0;
      } catch (err) {
        throw unavailableOr(err);
      }
    },
  };
}

/** BIGINT columns (sizes, inodes, ids) come back as JavaScript numbers; they stay below 2^53. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === types.builtins.INT8 && format !== 'binary') return (value: string) => Number(value);
    return types.getTypeParser(oid, format as 'text');
  },
} as PoolConfig['types'];

/** Opens a pool on `url`. Connections are kept alive by TCP keepalive, so a vanished peer is noticed. */
export function openPool(url: string, max: number, applicationName: string): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    types: TYPES,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
  });
  // An idle connection the server drops (a restart) emits here; the pool replaces it on demand.
  pool.on('error', () => undefined);
  return pool;
}

const guarded = new WeakSet<PoolClient>();

/** Checks a connection out of `pool`, mapping a refused connection to StateUnavailableError. */
export async function connect(pool: Pool): Promise<PoolClient> {
  try {
    const client = await pool.connect();
    // A connection lost while checked out (a restart mid-claim) must not crash the process.
    if (!guarded.has(client)) {
      guarded.add(client);
      client.on('error', () => undefined);
    }
    return client;
  } catch (err) {
    throw unavailableOr(err);
  }
}
