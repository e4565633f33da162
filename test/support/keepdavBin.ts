/**
 * The command the tests spawn: bin/keepdav.js (the compiled dist/, as installed) when dist/ is
 * built and newer than src/ (CI: `npm ci` builds it), else bin/keepdav-dev.js (the sources through
 * ts-node, seconds slower to start) so that an edited checkout tests what it has. The choice is
 * made here, on purpose; bin/keepdav.js itself never runs the sources.
 *
 * KEEPDAV_NODE_FLAGS are the node flags of the bin's own first line (`#!/usr/bin/env -S node
 * FLAGS`): a test that runs `node BIN` passes them, as the installed command and the service do,
 * or it measures a server other than the one users run (without its small young generation, a
 * PROPFIND of 100,000 files peaked 20 MiB higher on Node.js 24).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { distStatus } = require(join(REPO, 'bin', 'dist-status.js')) as { distStatus(): 'fresh' | 'missing' | 'stale' };

export const KEEPDAV_BIN = join(REPO, 'bin', distStatus() === 'fresh' ? 'keepdav.js' : 'keepdav-dev.js');

export const KEEPDAV_NODE_FLAGS: readonly string[] = readFileSync(KEEPDAV_BIN, 'utf8').split('\n')[0].split(/\s+/).slice(3);
