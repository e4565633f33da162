/**
 * The command the tests spawn: bin/keepdav.js (the compiled dist/, as installed) when dist/ is
 * built and newer than src/ (CI: `npm ci` builds it), else bin/keepdav-dev.js (the sources through
 * ts-node, seconds slower to start) so that an edited checkout tests what it has. The choice is
 * made here, on purpose; bin/keepdav.js itself never runs the sources.
 */
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { distStatus } = require(join(REPO, 'bin', 'dist-status.js')) as { distStatus(): 'fresh' | 'missing' | 'stale' };

export const KEEPDAV_BIN = join(REPO, 'bin', distStatus() === 'fresh' ? 'keepdav.js' : 'keepdav-dev.js');
