/**
 * Random kill -9 at full speed (issue 8, item 6): each trial prepares its own directory, runs one
 * workload (overwrite storms, PUT, restore, DELETE, MOVE and COPY of trees, also onto a tree,
 * PROPPATCH bursts) and SIGKILLs the server a random 0-30 ms after the first request. The next
 * start must be listening within 3 s (its CPU time) and find nothing torn, nothing acknowledged
 * lost, every replaced or deleted byte listed, no orphans (test/support/crashHarness.ts). KEEPDAV_CRASH_TRIALS sets
 * the number of trials (scripts/crashTrials.ts runs 1,000), KEEPDAV_CRASH_SEED replays a run.
 */
import { mulberry32 } from '../support/seededRandom';
import { CrashLab, checkTrial, ensureFreshBuild, type TrialExpectation } from '../support/crashHarness';
import {
  copyOnto, copyTree, deleteFile, deleteTree, moveOnto, moveTree, overwrite, proppatchBurst, putNew, restore, storm, type Scenario,
} from '../support/crashScenarios';

jest.setTimeout(120_000);

const TRIALS = Number(process.env.KEEPDAV_CRASH_TRIALS ?? 160);
const SEED = Number(process.env.KEEPDAV_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_DELAY_MS = 30;

const WORKLOADS: Scenario[] = [
  storm(12), storm(24), storm(24), putNew, overwrite, restore, deleteFile, deleteTree, moveTree, moveOnto, copyTree, copyOnto, proppatchBurst(10), proppatchBurst(20),
];
const random = mulberry32(SEED);
const trials = Array.from({ length: TRIALS }, (_, i) => ({
  i,
  scenario: WORKLOADS[Math.floor(random() * WORKLOADS.length)],
  delayMs: Math.floor(random() * (MAX_DELAY_MS + 1)),
}));

let lab: CrashLab;
let previous: TrialExpectation | null = null;

beforeAll(async () => {
  ensureFreshBuild();
  lab = await CrashLab.create();
}, 300_000);
afterAll(async () => {
  await lab?.close();
});

async function restartAndCheck(): Promise<void> {
  const bootMs = await lab.boot();
  if (previous === null) return;
  expect({ trial: previous.label, restartUnder3s: bootMs < 3000 }).toEqual({ trial: previous.label, restartUnder3s: true });
  await checkTrial(lab, previous);
}

describe(`${TRIALS} random kills (seed ${SEED})`, () => {
  describe.each(trials.map((t) => [t.i, t.scenario.name, t.delayMs, t.scenario] as const))('trial %i: %s, killed after %i ms', (i, name, delayMs, scenario) => {
    it('the restart finds nothing torn, nothing lost, no orphans', async () => {
      await restartAndCheck();
      lab.armKill(delayMs);
      const expectation = await scenario.run(lab, `r${i}`);
      await lab.killed;
      previous = { ...expectation, label: `${name} killed after ${delayMs} ms (seed ${SEED})` };
    });
  });

  it('the last trial recovered too', async () => {
    await restartAndCheck();
    await lab.kill9();
  });
});
