/**
 * kill -9 at every journaled step (issue 8, item 6; README "Nothing is lost"): keepdav, started
 * with KEEPDAV_CRASH_AT=<step>[:<n>], kills itself at that step of PUT, overwrite, restore,
 * DELETE, MOVE, COPY (also onto an existing tree), PROPPATCH, inside overwrite storms, and on
 * trees of thousands of files. Each trial's restart must be listening within 3 s (its CPU time) and find the tree in
 * its old or new state, every replaced or deleted byte listed as a version, and no orphans
 * (test/support/crashHarness.ts). One root and state serve all trials, so recoveries pile up.
 */
import { CrashLab, checkTrial, ensureFreshBuild, type TrialExpectation } from '../support/crashHarness';
import { STEP_SCENARIOS, big, storm, type Scenario } from '../support/crashScenarios';

jest.setTimeout(120_000);

const BIG_TREE_FILES = 1500;

const trials: Array<{ scenario: Scenario; crashAt: string }> = [
  ...STEP_SCENARIOS.flatMap((scenario) => scenario.steps.map((crashAt) => ({ scenario, crashAt }))),
  ...['overwrite:intent', 'overwrite:kept', 'overwrite:written', 'overwrite:committed'].flatMap((step) =>
    [2, 5, 9].map((n) => ({ scenario: storm(12), crashAt: `${step}:${n}` }))),
  ...big(BIG_TREE_FILES).flatMap((scenario) => scenario.steps.map((crashAt) => ({ scenario, crashAt }))),
];

let lab: CrashLab;
let previous: TrialExpectation | null = null;

beforeAll(async () => {
  ensureFreshBuild();
  lab = await CrashLab.create();
}, 300_000);
afterAll(async () => {
  await lab?.close();
});

/** Starts the server (recovering the previous trial's crash), checks that trial, and arms the next crash. */
async function restartAndCheck(crashAt?: string): Promise<void> {
  const bootMs = await lab.boot(crashAt);
  if (previous === null) return;
  expect({ trial: previous.label, restartUnder3s: bootMs < 3000 }).toEqual({ trial: previous.label, restartUnder3s: true });
  await checkTrial(lab, previous);
}

describe.each(trials.map((t, i) => [i, t.scenario.name, t.crashAt, t.scenario] as const))('trial %i: %s, killed at %s', (i, _name, crashAt, scenario) => {
  it('crashes there, and the restart recovers the previous trial whole', async () => {
    await restartAndCheck(crashAt);
    const expectation = await scenario.run(lab, `t${i}`);
    previous = { ...expectation, label: `${scenario.name} @ ${crashAt}` };
    expect({ crashAt, diedThere: await lab.diedByItself() }).toEqual({ crashAt, diedThere: true });
  });
});

it(`all ${trials.length} crashes recovered: the last one too`, async () => {
  await restartAndCheck();
  await lab.kill9();
});
