#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50 --expose-gc
'use strict';
// Development only: runs the TypeScript sources in src/ through ts-node (a dev dependency), on
// purpose, whatever the state of dist/. `npm run dev -- serve ...` calls it. Installs run
// bin/keepdav.js, which runs dist/ and nothing else.
// First of all: at most two malloc arenas (malloc-arenas.js); this may start the process again.
require('./malloc-arenas').withFewMallocArenas();
const { join } = require('node:path');

process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '32';
const top = join(__dirname, '..');
require('ts-node').register({ transpileOnly: true, project: join(top, 'tsconfig.json') });
require(join(top, 'src', 'cli.ts'))
  .main(process.argv.slice(2))
  .then((code) => {
    if (code >= 0) process.exit(code);
  });
