/**
 * The StateStore contract (stateStore.contract.ts) against PostgreSQL: a throwaway cluster
 * (test/support/postgresCluster.ts), one database migrated once and emptied before each test.
 * The test clock reaches the database through the session setting keepdav_now_ms() reads.
 * Outside CI a machine without PostgreSQL skips these loudly; in CI they run.
 */
import { Client } from 'pg';
import { describeStateStoreContract } from './stateStore.contract';
import { TestClock } from '../support/testClock';
import { startPostgresCluster, postgresInstalled, itWithPostgres, type PostgresCluster } from '../support/postgresCluster';
import { PostgresStateStore } from '../../src/state/postgres/postgresStateStore';

jest.setTimeout(60_000);

let cluster: PostgresCluster | undefined;

afterAll(async () => {
  await cluster?.remove();
});

async function emptyDatabase(): Promise<string> {
  cluster ??= await startPostgresCluster('contract');
  const client = new Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'keepdav_schema'");
    if (rows.length > 0) await client.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY`);
  } finally {
    await client.end();
  }
  return cluster.url;
}

if (postgresInstalled || process.env.CI) {
  describeStateStoreContract('PostgreSQL', async () => {
    const clock = new TestClock(1_700_000_000_000);
    const store = await PostgresStateStore.open(await emptyDatabase(), { clock: clock.now });
    return { store, clock, close: () => store.close() };
  });
} else {
  // Says loudly that the contract did not run here (itWhenInstalled prints why).
  itWithPostgres()('StateStore contract: PostgreSQL', () => undefined);
}
