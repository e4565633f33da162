/**
 * ConcurrencyLimit (src/concurrency/concurrencyLimit.ts): never more than its limit at once, the
 * rest in the order they came, a failure frees its place, and a limit that is no whole number of
 * at least 1 is refused.
 */
import { ConcurrencyLimit } from '../../../src/concurrency/concurrencyLimit';

/** A piece of work that ends when told, recording when it started. */
function gate(started: number[], id: number) {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const ended = new Promise<number>((resolve, reject) => {
    open = () => resolve(id);
    fail = reject;
  });
  return { work: () => (started.push(id), ended), open, fail };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most its limit at once, the rest first come first served, and each gets its own answer', async () => {
    const limit = new ConcurrencyLimit(2);
    const started: number[] = [];
    const gates = [0, 1, 2, 3, 4].map((id) => gate(started, id));
    const answers = gates.map((g) => limit.run(g.work));
    await settle();
    expect(started).toEqual([0, 1]);
    expect(limit.load).toEqual({ running: 2, waiting: 3 });
    gates[1].open();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0].open();
    gates[2].open();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limit.load).toEqual({ running: 2, waiting: 0 });
    gates[3].open();
    gates[4].open();
    expect(await Promise.all(answers)).toEqual([0, 1, 2, 3, 4]);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('a piece that fails rejects its own caller and frees its place for the next', async () => {
    const limit = new ConcurrencyLimit(1);
    const started: number[] = [];
    const first = gate(started, 1);
    const second = gate(started, 2);
    const failing = limit.run(first.work);
    const next = limit.run(second.work);
    await settle();
    expect(started).toEqual([1]);
    first.fail(new Error('EIO'));
    await expect(failing).rejects.toThrow('EIO');
    await settle();
    expect(started).toEqual([1, 2]);
    second.open();
    expect(await next).toBe(2);
    expect(limit.load).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new ConcurrencyLimit(bad)).toThrow(RangeError);
  });
});
