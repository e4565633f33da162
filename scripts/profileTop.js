#!/usr/bin/env node
// Prints the top functions of a V8 .cpuprofile (node --cpu-prof) by self time, then keepdav's
// own functions (dist/) by total time (self + callees), for the perf notes.
// Usage: node scripts/profileTop.js FILE.cpuprofile [N]
'use strict';
const fs = require('node:fs');
const [file, count = '25'] = process.argv.slice(2);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (node) => {
  const f = node.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`;
};
const self = new Map();
const total = new Map();
let all = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  const node = byId.get(profile.samples[i]);
  all += dt;
  if (node.callFrame.functionName === '(idle)') idle += dt;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const key = label(byId.get(id));
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + dt);
  }
}
const busy = all - idle;
const pct = (us) => ((100 * us) / busy).toFixed(1).padStart(5);
console.log(`profile ${(all / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s\n-- self time`);
for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) console.log(`${pct(us)} %  ${key}`);
console.log('-- total time, keepdav and libraries');
for (const [key, us] of [...total.entries()].filter(([k]) => /dist\/|node_modules\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(count))) console.log(`${pct(us)} %  ${key}`);
