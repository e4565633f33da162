/**
 * The Node.js binaries a test that spawns node runs with: this suite's own, and Node.js 24 when
 * NODE24_FOR_TESTS names one that exists (.ci/run installs it from the npm registry).
 *
 * Usage: `describe.each(nodesUnderTest())('... on %s', (_label, node) => ...)`
 */
import { existsSync } from 'node:fs';

export function nodesUnderTest(): Array<[label: string, node: string]> {
  const nodes: Array<[string, string]> = [["this suite's node", process.execPath]];
  const node24 = process.env.NODE24_FOR_TESTS;
  if (node24 && existsSync(node24)) nodes.push(['Node.js 24', node24]);
  return nodes;
}
