#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50 --expose-gc
// --max-semi-space-size=4: a small young generation. Request bodies arrive as many short-lived
// 64 KiB buffers; collecting them sooner keeps uploads' memory low (measured: ~10 MiB less peak
// RSS, no throughput lost).
// --heap-growing-percent=50: the old generation may grow to 1.5 times what was alive after the
// last full collection before the next one, where V8 lets it grow up to 4 times: under 16
// concurrent listings the heap stayed at 27 MiB instead of 45-50, peak RSS 26 MiB lower (110-115
// MiB against 136-143), for 10 % fewer listings a second (scripts/bench, interleaved A/B).
// --expose-gc: a minor collection after every 4 MiB of request body frees the spent buffers of a
// large upload at once instead of once they add up to ~64 MiB (src/storage/spentBodyBuffers.ts:
// a 512 MiB PUT peaked at 93 MiB instead of 112, no slower).
// `npm start`, the Dockerfile and the benchmark pass the same flags.
'use strict';
// The keepdav command. Runs the compiled dist/ only: when it is missing, or older than a file in
// src/ (a checkout edited since the last build), it says so and exits 1 rather than running
// anything else. `npm run build` compiles; `npm run dev --` (bin/keepdav-dev.js) runs the sources.
// First of all: at most two malloc arenas (malloc-arenas.js); this may start the process again.
require('./malloc-arenas').withFewMallocArenas();
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
