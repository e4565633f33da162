import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../../src/state/sqlite/sqliteStateStore';
import { describeStateStoreContract } from '../../contract/stateStore.contract';
import { TestClock } from '../../support/testClock';

describeStateStoreContract('SQLite (in memory)', async () => {
  const clock = new TestClock(1_700_000_000_000);
  const store = new SqliteStateStore(new Database(':memory:'), { clock: clock.now });
  return { store, clock, close: () => store.close() };
});
