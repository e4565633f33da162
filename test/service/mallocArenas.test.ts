/**
 * bin/malloc-arenas.js: the keepdav command runs with at most two malloc arenas. Where node has
 * process.execve (Node.js 22.15, 23.11 and later) the command starts itself again with
 * MALLOC_ARENA_MAX=2, keeping its pid, node flags and arguments; a value the user set stays; an
 * older node runs as it is (the launchers set it there). What the process really got is read from
 * /proc/<pid>/environ, which glibc reads too, not from process.env.
 *
 * Run with this suite's node and, when NODE24_FOR_TESTS names one (.ci/run installs Node.js 24 from
 * the npm registry and sets it), with Node.js 24 as well: in CI that node must be there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodesUnderTest } from '../support/nodesUnderTest';

const REPO = join(__dirname, '..', '..');
const HELPER = join(REPO, 'bin', 'malloc-arenas.js');

const nodes = nodesUnderTest();
if (nodes.length === 1) {
  const node24 = process.env.NODE24_FOR_TESTS;
  if (process.env.CI) test('CI provides Node.js 24 (NODE24_FOR_TESTS)', () => expect(node24 && existsSync(node24) ? node24 : 'missing').not.toBe('missing'));
  else console.warn('NODE24_FOR_TESTS is not set: bin/malloc-arenas.js is tested with this node only');
}

/** Prints one line per start (`start <pid>`), then what /proc says of the process's environment and its node flags. */
const PROBE = `
  process.stdout.write('start ' + process.pid + '\\n');
  require(${JSON.stringify(HELPER)}).withFewMallocArenas();
  const environ = require('node:fs').readFileSync('/proc/self/environ', 'utf8').split('\\0');
  const arenas = environ.find((e) => e.startsWith('MALLOC_ARENA_MAX='));
  process.stdout.write(JSON.stringify({ pid: process.pid, arenas: arenas ?? null, flags: process.execArgv, args: process.argv.slice(1) }) + '\\n');
`;

function probe(node: string, env: NodeJS.ProcessEnv): { starts: string[]; result: { pid: number; arenas: string | null; flags: string[]; args: string[] } } {
  const out = execFileSync(node, ['--expose-gc', '-e', PROBE, 'one', 'two words'], { env, timeout: 20_000 }).toString().trim().split('\n');
  return { starts: out.slice(0, -1), result: JSON.parse(out[out.length - 1]) };
}

const withoutArenas = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  return env;
};

describe.each(nodes)('bin/malloc-arenas.js on %s', (_label, node) => {
  const hasExecve = execFileSync(node, ['-p', 'typeof process.execve']).toString().trim() === 'function';

  it('starts the process again with MALLOC_ARENA_MAX=2 (same pid, flags and arguments), or runs as is on a node without execve', () => {
    const { starts, result } = probe(node, withoutArenas());
    if (hasExecve) {
      expect(starts).toEqual([`start ${result.pid}`, `start ${result.pid}`]); // twice, one pid
      expect(result.arenas).toBe('MALLOC_ARENA_MAX=2');
    } else {
      expect(starts).toEqual([`start ${result.pid}`]);
      expect(result.arenas).toBeNull();
    }
    expect(result.flags).toEqual(expect.arrayContaining(['--expose-gc']));
    expect(result.args).toEqual(['one', 'two words']);
  });

  it('leaves a MALLOC_ARENA_MAX the user set as it is, and starts once', () => {
    const { starts, result } = probe(node, { ...withoutArenas(), MALLOC_ARENA_MAX: '4' });
    expect(starts).toHaveLength(1);
    expect(result.arenas).toBe('MALLOC_ARENA_MAX=4');
  });

  it('the keepdav command still answers once (no second output from the second start)', () => {
    const out = execFileSync(node, [join(REPO, 'bin', 'keepdav.js'), '--version'], { env: withoutArenas(), timeout: 20_000 }).toString();
    expect(out).toMatch(/^keepdav \d+\.\d+\.\d+\n$/);
  });
});
