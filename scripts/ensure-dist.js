'use strict';
// Builds dist/ when it is missing or older than src/ (`prepare` on npm install/ci, `prestart`).
// A production install of a checkout (`npm ci --omit=dev`) has no TypeScript: then, with
// --quiet-without-typescript (prepare), it explains what to do and lets the install finish;
// otherwise it exits 1. An installed package (the `npm pack` tarball) ships dist/ and needs nothing.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { distStatus, top } = require('../bin/dist-status');

const status = distStatus();
if (status === 'fresh') process.exit(0);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [top] });
} catch {
  process.stderr.write(
    `keepdav: dist/ is ${status} and TypeScript is not installed (a production install of a checkout). ` +
      `Build once with "npm ci && npm run build && npm prune --omit=dev", or install the package made by "npm pack".\n`,
  );
  process.exit(process.argv.includes('--quiet-without-typescript') ? 0 : 1);
}
// The server, then the browser page's script (web/tsconfig.json, into dist/ui).
for (const project of ['tsconfig.build.json', join('web', 'tsconfig.json')]) {
  const built = spawnSync(process.execPath, [tsc, '-p', join(top, project)], { cwd: top, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
