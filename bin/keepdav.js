#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size=4: a small young generation. Request bodies arrive as many short-lived
// 64 KiB buffers; collecting them sooner keeps uploads' memory low (measured: ~10 MiB less peak
// RSS, no throughput lost). `npm start` passes the same flag.
'use strict';
// The keepdav command. Runs the compiled dist/ only: when it is missing, or older than a file in
// src/ (a checkout edited since the last build), it says so and exits 1 rather than running
// anything else. `npm run build` compiles; `npm run dev --` (bin/keepdav-dev.js) runs the sources.
const { distStatus, compiled } = require('./dist-status');

// Uploads fsync every file: let more than libuv's default 4 threads wait on the disk at once.
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '32';

const status = distStatus();
if (status !== 'fresh') {
  const why = status === 'missing' ? 'dist/ is missing (the compiled code)' : 'dist/ is older than src/ (edited since the last build)';
  process.stderr.write(
    `keepdav: ${why}. Run "npm run build" (needs the dev dependencies: "npm ci"), ` +
      `or "npm run dev -- ARGS" to run the sources.\n`,
  );
  process.exit(1);
}
require(compiled)
  .main(process.argv.slice(2))
  .then((code) => {
    if (code >= 0) process.exit(code);
  });
