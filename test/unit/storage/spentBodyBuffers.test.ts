import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { COLLECT_EVERY_BYTES, spentBufferCollector } from '../../../src/storage/spentBodyBuffers';

describe('spentBufferCollector', () => {
  test('collects once per COLLECT_EVERY_BYTES of body, counted across calls of any size', () => {
    let collections = 0;
    const passed = spentBufferCollector(() => collections++);
    passed(COLLECT_EVERY_BYTES - 1);
    expect(collections).toBe(0);
    passed(1);
    expect(collections).toBe(1);
    for (let i = 0; i < COLLECT_EVERY_BYTES / (64 * 1024); i++) passed(64 * 1024); // one interval in parts of 64 KiB
    expect(collections).toBe(2);
    passed(3 * COLLECT_EVERY_BYTES); // one part larger than the interval: one collection, the count starts again
    expect(collections).toBe(3);
    passed(COLLECT_EVERY_BYTES - 1);
    expect(collections).toBe(3);
  });

  test('without a collection to run (node without --expose-gc) nothing happens', () => {
    const passed = spentBufferCollector(null);
    expect(() => passed(10 * COLLECT_EVERY_BYTES)).not.toThrow();
  });

  test('under node --expose-gc the process counter runs forced minor collections', () => {
    // Forced minor collections show as 'gc' performance entries of kind minor with the forced flag.
    const script = `
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      const { bodyBytesPassed, COLLECT_EVERY_BYTES } = require(${JSON.stringify(path.join(__dirname, '../../../src/storage/spentBodyBuffers'))});
      let forcedMinor = 0;
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR && (e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) forcedMinor++;
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      for (let i = 0; i < 3 * 128; i++) bodyBytesPassed(COLLECT_EVERY_BYTES / 128);
      setTimeout(() => { observer.disconnect(); process.stdout.write(String(forcedMinor)); }, 100);
    `;
    const run = (flags: string[]) => execFileSync(process.execPath, [...flags, '-r', 'ts-node/register/transpile-only', '-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '../../..') });
    expect(run(['--expose-gc'])).toBe('3');
    expect(run([])).toBe('0');
  });
});
