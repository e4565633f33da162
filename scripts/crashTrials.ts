/**
 * The kill -9 fault trials at full strength (issue 8): 1,000 random kills (default) plus every
 * journaled crash point, through jest so the assertions are the suite's own.
 *
 * Usage:
 *   npx ts-node --transpile-only scripts/crashTrials.ts            # 1,000 random trials + the step trials
 *   npx ts-node --transpile-only scripts/crashTrials.ts 5000       # another number of random trials
 *   KEEPDAV_CRASH_SEED=123 npx ts-node --transpile-only scripts/crashTrials.ts   # replay a failing run
 * Exit code: jest's (0 when every trial held).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const trials = process.argv[2] ?? '1000';
if (!/^\d+$/.test(trials)) {
  process.stderr.write('usage: crashTrials.ts [NUMBER_OF_RANDOM_TRIALS]\n');
  process.exit(2);
}
const repo = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '--runInBand', 'test/e2e/crashRandom.test.ts', 'test/e2e/crashSteps.test.ts'],
  { cwd: repo, stdio: 'inherit', env: { ...process.env, KEEPDAV_CRASH_TRIALS: trials } },
);
process.exit(result.status ?? 1);
