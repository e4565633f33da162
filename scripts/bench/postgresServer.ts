/**
 * The throwaway PostgreSQL 15 cluster behind the bench's `keepdav-pg` column (issue 12): keepdav
 * with `--state postgres://...`. Mirrors test/support/postgresCluster.ts (initdb in a temporary
 * directory as the `postgres` system user when the bench runs as root, unix socket in that
 * directory, 127.0.0.1 on a free port) but keeps the durability settings of a real deployment:
 * fsync, synchronous_commit and full_page_writes stay on, so every committed LOCK is on disk
 * before keepdav answers, as in production. Stopped and removed at the end (and on any exit).
 *
 * Usage:
 *   const missing = postgresUnavailable();         // null, or why the column is skipped
 *   const pg = await startBenchPostgres();         // pg.url: postgres://postgres@127.0.0.1:PORT/keepdav
 *   ...; await pg.remove();
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { onCleanup } from './cleanup';
import { pickFreePort } from './apacheServer';

const run = promisify(execFile);
const POSTGRES_BIN = process.env.BENCH_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export function postgresUnavailable(): string | null {
  return fs.existsSync(path.join(POSTGRES_BIN, 'postgres')) ? null : `PostgreSQL not installed (Debian: apt-get install postgresql; looked in ${POSTGRES_BIN})`;
}

export interface BenchPostgres {
  url: string;
  remove(): Promise<void>;
}

function asPostgresArgs(program: string, args: string[]): [string, string[]] {
  const exe = path.join(POSTGRES_BIN, program);
  return os.userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
}

async function asPostgres(program: string, args: string[]): Promise<void> {
  const [exe, full] = asPostgresArgs(program, args);
  await run(exe, full, { timeout: 120_000, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keepdav-bench-pg-'));
  const data = path.join(dir, 'data');
  const stopNow = (): void => {
    const [exe, full] = asPostgresArgs('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    spawnSync(exe, full, { stdio: 'ignore', timeout: 60_000 });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const forget = onCleanup(stopNow);
  if (os.userInfo().uid === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
    fs.chownSync(dir, uid, gid);
  }
  fs.chmodSync(dir, 0o700);
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
  const port = await pickFreePort();
  // Durable like production: fsync, synchronous_commit and full_page_writes keep their defaults (on).
  const options = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-k ${dir}`, '-c max_connections=200', '-c log_min_messages=warning'].join(' ');
  await asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
  const admin = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE keepdav TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/keepdav`,
    async remove() {
      forget();
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
