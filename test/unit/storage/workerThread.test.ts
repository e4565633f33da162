/**
 * workerThread.ts: a helper thread's young generation is the one it asks for, even in a process
 * started with --max-semi-space-size (bin/keepdav.js passes 4), a flag V8 would otherwise apply
 * to every isolate made later and that overrides a worker's resourceLimits. Observers of helper
 * stops hear of each helper that ended, and of none once removed.
 */
import { setFlagsFromString } from 'node:v8';
import { observeHelperStops, startWorkerThread } from '../../../src/storage/workerThread';

/** Churns through short-lived objects (so V8 grows the new space as far as it may), then reports its size. */
const CHURN_THEN_REPORT = `
const { parentPort } = require('node:worker_threads');
let kept = [];
for (let i = 0; i < 400000; i++) {
  kept.push({ i, text: 'member-' + i });
  if (kept.length > 20000) kept = [];
}
const newSpace = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
parentPort.postMessage(newSpace.space_size);
`;

function newSpaceOfHelper(youngGenerationMb: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let reported: number | null = null;
    // Settled once the helper has ended, so that its end is no later test's business.
    const worker = startWorkerThread<number>(CHURN_THEN_REPORT, {
      name: 'test helper',
      youngGenerationMb,
      onMessage: (bytes) => {
        reported = bytes;
        void worker.terminate();
      },
      onStopped: (err) => (reported === null ? reject(err) : resolve(reported)),
    });
    worker.ref();
  });
}

afterAll(() => setFlagsFromString('--max-semi-space-size=0'));

test("a helper's new space follows its youngGenerationMb, not the main thread's --max-semi-space-size", async () => {
  setFlagsFromString('--max-semi-space-size=4'); // as bin/keepdav.js starts node: 8 MiB of new space per isolate
  const bytes = await newSpaceOfHelper(1);
  // Two semi-spaces of 1 MiB: Node.js 20 reports 2 MiB; Node.js 24's V8 adds pages as it goes
  // and reported 2-2.5 MiB (of 15 helpers). The main thread's flag would give 8 MiB on either.
  expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
  expect(bytes).toBeGreaterThan(0);
});

test('observers hear of each helper that ended, after it ended, and of none once removed', async () => {
  let heard = 0;
  const unobserve = observeHelperStops(() => heard++);
  const runOne = () =>
    new Promise<void>((resolve, reject) => {
      const worker = startWorkerThread<string>(`require('node:worker_threads').parentPort.postMessage('up')`, {
        name: 'test helper',
        youngGenerationMb: 1,
        onMessage: () => void worker.terminate(),
        onStopped: () => resolve(),
      });
      worker.on('error', reject);
      worker.ref();
    });
  await runOne();
  expect(heard).toBe(1);
  unobserve();
  await runOne();
  expect(heard).toBe(1);
});
