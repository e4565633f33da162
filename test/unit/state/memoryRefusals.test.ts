/**
 * The embedded store's refusals and recent deletions in memory (src/state/sqlite/memoryRefusals.ts):
 * entries past the window are swept once the maps grow large, and a mass delete whose entries are
 * all recent does not walk them all again on every write.
 */
import Database from 'better-sqlite3';
import { MemoryRefusalRecords } from '../../../src/state/sqlite/memoryRefusals';
import { TransactionGate } from '../../../src/state/sqlite/transactionGate';
import { TestClock } from '../../support/testClock';

const file = { etag: '"e"', mtimeMs: 1, size: 1 };

function records(clock: TestClock): MemoryRefusalRecords {
  return new MemoryRefusalRecords(new TransactionGate(new Database(':memory:')), clock.now, 60_000);
}

it('keeps 30,000 recent deletions, sweeping a few times instead of after every one', async () => {
  const clock = new TestClock(1_700_000_000_000);
  const memory = records(clock);
  const sweep = jest.spyOn(memory as unknown as { sweep: (cutoff: number) => number }, 'sweep');
  for (let i = 0; i < 30_000; i++) await memory.recordDeletion(`/d/f${i}`, 'client', file);
  expect(sweep.mock.calls.length).toBeGreaterThan(0);
  expect(sweep.mock.calls.length).toBeLessThanOrEqual(3);
  expect(await memory.deletionOf('/d/f0', 'client')).toMatchObject(file);
  expect(await memory.deletionOf('/d/f29999', 'client')).toMatchObject(file);
});

it('forgets the entries past the window once the maps grow large', async () => {
  const clock = new TestClock(1_700_000_000_000);
  const memory = records(clock);
  for (let i = 0; i < 10_000; i++) await memory.recordDeletion(`/old/f${i}`, 'client', file);
  clock.advance(61_000);
  await memory.recordRefusal('/new.txt', 'client', { code: 'stale-upload', status: 409 });
  expect(await memory.deletionOf('/old/f0', 'client')).toBeNull();
  expect(await memory.refusalOf('/new.txt', 'client')).toMatchObject({ code: 'stale-upload', status: 409 });
  for (let i = 0; i < 10_001; i++) await memory.recordDeletion(`/new/f${i}`, 'client', file);
  expect(await memory.deletionOf('/new/f0', 'client')).toMatchObject(file);
});
