'use strict';
// Whether the compiled dist/ can run: present, and (in a checkout, where src/ exists) at least as
// new as every file in src/. Shared by bin/keepdav.js and scripts/ensure-dist.js.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const top = join(__dirname, '..');
const compiled = join(top, 'dist', 'cli.js');
const sources = join(top, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** 'fresh', 'missing' or 'stale' (older than a file in src/). */
function distStatus() {
  if (!existsSync(compiled)) return 'missing';
  if (!existsSync(sources)) return 'fresh'; // an installed package ships dist/ without src/
  return statSync(compiled).mtimeMs >= newestMtime(sources) ? 'fresh' : 'stale';
}

module.exports = { top, compiled, distStatus };
