/**
 * native/mallocTrim.c, loaded by src/admin/mallocTrim.ts: `npm install` builds it (node-gyp), and
 * it gives back to the system the memory freed inside malloc's heap that free() alone keeps. A
 * child node fills the heap with 64 KiB buffers (malloc'd, below its mmap threshold), keeps one in
 * sixteen so the heap's top cannot shrink, lets the rest go and collects them: its RSS must fall
 * only with the trim. Run with this suite's node and with Node.js 24 when NODE24_FOR_TESTS names
 * it (Node-API: one build serves both). Outside CI a missing build is said loudly and skipped; in
 * CI it must be there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MALLOC_TRIM_BINARY, mallocTrim } from '../../src/admin/mallocTrim';
import { itWhenInstalled } from '../support/realClientKit';
import { nodesUnderTest } from '../support/nodesUnderTest';

const built = existsSync(MALLOC_TRIM_BINARY);
const itWhenBuilt = itWhenInstalled('the native malloc_trim helper (build/Release/malloc_trim.node)', built, 'npm install builds it: needs python3, make and a C compiler');

/** Prints `{ before, freed, trimmed, released }`: RSS in MiB after filling, after freeing and collecting, after the trim. */
const PROBE = `
const { readFileSync } = require('node:fs');
const rssMiB = () => Number(/^VmRSS:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const trim = require(${JSON.stringify(MALLOC_TRIM_BINARY)}).trim;
let buffers = [];
for (let i = 0; i < 1600; i++) buffers.push(Buffer.allocUnsafeSlow(64 * 1024).fill(i & 255));
const kept = buffers.filter((_, i) => i % 16 === 15);
const before = rssMiB();
buffers = null;
// V8 frees dead buffers' memory on a background thread after the collection: give it time.
const collect = () => new Promise((resolve) => { gc(); setTimeout(resolve, 100); });
collect().then(collect).then(() => {
  const freed = rssMiB();
  const released = trim();
  const trimmed = rssMiB();
  process.stdout.write(JSON.stringify({ before, freed, trimmed, released, kept: kept.length }));
});
`;


describe.each(nodesUnderTest())('malloc_trim on %s', (_name, node) => {
  itWhenBuilt('gives the freed middle of the heap back: RSS falls by most of the ~94 MiB freed only once trimmed', () => {
    const out = execFileSync(node, ['--expose-gc', '-e', PROBE], { encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: '2' } });
    const { before, freed, trimmed, released } = JSON.parse(out) as { before: number; freed: number; trimmed: number; released: boolean };
    expect(before - freed).toBeLessThan(30); // free() kept most of it: one buffer in 16 pins the heap
    expect(released).toBe(true);
    expect(freed - trimmed).toBeGreaterThan(60);
  });
});

itWhenBuilt('src/admin/mallocTrim.ts loads the build and calls it', () => {
  const trim = mallocTrim();
  expect(trim).not.toBeNull();
  expect(typeof trim!()).toBe('boolean');
});
