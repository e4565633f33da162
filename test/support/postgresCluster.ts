/**
 * A throwaway PostgreSQL 15 cluster for the tests of the shared state (issue 12): initdb in a
 * temporary directory owned by the unprivileged `postgres` system user (the tests run as root in
 * CI, and postgres refuses to run as root), listening on 127.0.0.1 on a free port and on a unix
 * socket in that directory, fsync off (a test cluster need not survive a power cut). Stopped and
 * removed by `remove()`; `stop()` and `start()` restart it on the same port (the database-restart
 * test).
 *
 * Outside CI a machine without PostgreSQL skips these tests loudly (itWithPostgres); in CI they run.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { itWhenInstalled } from './realClientKit';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 (package `postgresql`). */
export const POSTGRES_BIN = process.env.KEEPDAV_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
export const postgresInstalled = existsSync(join(POSTGRES_BIN, 'postgres'));

/** The `it` of a test that needs PostgreSQL: skipped loudly outside CI when it is missing, always run in CI. */
export function itWithPostgres(): jest.It {
  return itWhenInstalled('postgres', postgresInstalled, `apt-get install -y postgresql (${POSTGRES_BIN}/postgres)`);
}

export interface PostgresCluster {
  readonly dir: string;
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/DB for the database created at start. */
  readonly url: string;
  /** The URL of another database of this cluster. */
  urlOf(database: string): string;
  /** Creates a fresh empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut), keeping the data. */
  stop(): Promise<void>;
  /** Starts it again on the same port and socket. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program as the `postgres` user when this process is root. */
function asPostgres(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const path = join(POSTGRES_BIN, program);
  const root = userInfo().uid === 0;
  return run(root ? 'runuser' : path, root ? ['-u', 'postgres', '--', path, ...args] : args, { timeout: 120_000, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
}

export async function startPostgresCluster(database = 'keepdav'): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'keepdav-pg-'));
  if (userInfo().uid === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const options = [
    `-p ${port}`, '-c listen_addresses=127.0.0.1', `-k ${dir}`, '-c fsync=off', '-c synchronous_commit=off',
    '-c full_page_writes=off', '-c shared_buffers=16MB', '-c max_connections=200', '-c log_min_messages=warning',
  ].join(' ');
  const start = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
  };
  const stop = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => undefined);
  };
  await start();
  const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const createDatabase = async (name: string) => {
    const admin = new Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}" TEMPLATE template0 ENCODING 'UTF8'`);
    } finally {
      await admin.end();
    }
    return urlOf(name);
  };
  const url = await createDatabase(database);
  return {
    dir,
    port,
    url,
    urlOf,
    createDatabase,
    stop,
    start,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: group } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
}
