#!/usr/bin/env node
'use strict';
// The keepdav command: runs the TypeScript sources through ts-node (transpile only, no type check).
const { join } = require('node:path');
require('ts-node').register({ transpileOnly: true, project: join(__dirname, '..', 'tsconfig.json') });
const { main } = require('../src/cli.ts');
main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
});
