/**
 * native/memberStats.c, which the listing thread (src/storage/listingThread.ts) loads: `npm
 * install` builds it (node-gyp). For every name it gives exactly the numbers fs.lstatSync gives
 * (the same doubles, bit for bit) for plain files and directories, and marks everything else
 * careful (symlinks, special files, missing names, names no directory entry can have), on this
 * root's filesystem and on tmpfs; a directory it cannot open is left to the caller; arguments of
 * the wrong types throw. Run with this suite's node and with Node.js 24 when NODE24_FOR_TESTS names
 * it (Node-API: one build serves both). Outside CI a missing build is said loudly and skipped; in
 * CI it must be there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEMBER_FIELDS, MEMBER_STATS_BINARY } from '../../../src/storage/listingThread';
import { itWhenInstalled } from '../../support/realClientKit';
import { nodesUnderTest } from '../../support/nodesUnderTest';
import { freshDir, removeDir } from './storageTestKit';

const built = existsSync(MEMBER_STATS_BINARY);
const itWhenBuilt = itWhenInstalled('the native member stats helper (build/Release/member_stats.node)', built, 'npm install builds it: needs python3, make and a C compiler');

/** Names beyond the directory's own: missing, a path, a NUL, too long for any filesystem. */
const IMPOSSIBLE = ['gone', 'sub/inner', 'nul\u0000name', 'n'.repeat(300)];

/** Prints, for the directory argv[1], each name with lstat's fields and the helper's, as JSON. */
const COMPARE = `
const fs = require('node:fs');
const { statMembers } = require(${JSON.stringify(MEMBER_STATS_BINARY)});
const dir = process.argv[1];
const names = [...fs.readdirSync(dir), ...${JSON.stringify(IMPOSSIBLE)}];
const out = new Float64Array(names.length * ${MEMBER_FIELDS});
const returned = statMembers(dir, names, out);
const rows = names.map((name, i) => {
  let s;
  try { s = fs.lstatSync(dir + '/' + name, { throwIfNoEntry: false }); } catch { s = undefined; }
  const kind = s === undefined ? 0 : s.isFile() ? 1 : s.isDirectory() ? 2 : 0;
  const lstat = kind === 0 ? [0, 0, 0, 0, 0, 0, 0] : [kind, s.size, s.mtimeMs, s.ctimeMs, s.birthtimeMs, s.ino, s.dev];
  return { name, lstat, native: Array.from(out.subarray(i * ${MEMBER_FIELDS}, (i + 1) * ${MEMBER_FIELDS})) };
});
process.stdout.write(JSON.stringify({ returned, rows }));
`;

interface Comparison {
  returned: boolean;
  rows: Array<{ name: string; lstat: number[]; native: number[] }>;
}


/** Every kind of member a directory can hold, a large file, and names in UTF-8 and not. */
function fillMixed(dir: string): void {
  writeFileSync(join(dir, 'file.txt'), 'twelve bytes');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  writeFileSync(join(dir, 'Grüße ✓ 文件'), 'unicode');
  writeFileSync(Buffer.concat([Buffer.from(join(dir, 'not-utf8-')), Buffer.from([0xff])]), 'a name that is not UTF-8: it reads as U+FFFD, which names nothing');
  mkdirSync(join(dir, 'sub'));
  symlinkSync('file.txt', join(dir, 'link'));
  symlinkSync('/nowhere', join(dir, 'dangling'));
  execFileSync('mkfifo', [join(dir, 'pipe')]);
}

describe.each(nodesUnderTest())('native member stats on %s', (_label, node) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  const compare = (dir: string): Comparison => JSON.parse(execFileSync(node, ['-e', COMPARE, dir], { encoding: 'utf8' })) as Comparison;

  const filesystems: Array<[string, () => string]> = [
    ["the tests' filesystem", () => freshDir('member-stats')],
    ['tmpfs (/dev/shm)', () => mkdtempSync('/dev/shm/keepdav-member-stats-')],
  ];
  for (const [where, makeDir] of filesystems) {
    itWhenBuilt(`gives lstat's exact numbers for files and directories, careful for the rest, on ${where}`, () => {
      if (where.startsWith('tmpfs') && !existsSync('/dev/shm')) return;
      const dir = makeDir();
      dirs.push(dir);
      fillMixed(dir);
      const { returned, rows } = compare(dir);
      expect(returned).toBe(true);
      expect(rows.length).toBe(readdirSync(dir).length + IMPOSSIBLE.length);
      for (const row of rows) expect({ name: row.name, numbers: row.native }).toEqual({ name: row.name, numbers: row.lstat });
      const kindOf = (name: string) => rows.find((r) => r.name === name)!.native[0];
      expect(['file.txt', 'empty', 'big.bin', 'Grüße ✓ 文件', 'sub', 'link', 'dangling', 'pipe', ...IMPOSSIBLE].map(kindOf)).toEqual([1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0]);
      // The times carry their fractions: the comparison is not of whole seconds only.
      expect(lstatSync(join(dir, 'file.txt')).mtimeMs % 1000).not.toBe(0);
    });
  }
});

describe('native member stats, wrong calls', () => {
  const load = () => require(MEMBER_STATS_BINARY) as { statMembers(dir: unknown, names: unknown, out: unknown): boolean };

  itWhenBuilt('leaves a directory it cannot open to the caller: false, nothing filled', () => {
    const out = new Float64Array(MEMBER_FIELDS).fill(-1);
    expect(load().statMembers('/nonexistent-keepdav-dir', ['a'], out)).toBe(false);
    expect(Array.from(out)).toEqual(new Array(MEMBER_FIELDS).fill(-1));
    const dir = freshDir('member-stats-file');
    try {
      writeFileSync(join(dir, 'plain'), 'x');
      expect(load().statMembers(join(dir, 'plain'), ['a'], out)).toBe(false); // a file, not a directory
    } finally {
      removeDir(dir);
    }
  });

  itWhenBuilt('throws a TypeError for arguments of the wrong types or an array too short', () => {
    const { statMembers } = load();
    // The helper's TypeError is of the process's own realm, not of jest's sandbox: compare names.
    const thrownBy = (call: () => unknown): string => {
      try {
        call();
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
      return 'nothing thrown';
    };
    expect(thrownBy(() => statMembers(1, [], new Float64Array(0)))).toBe('TypeError: dir must be a string');
    expect(thrownBy(() => statMembers('/', 'names', new Float64Array(7)))).toBe('TypeError: names must be an array');
    expect(thrownBy(() => statMembers('/', ['a'], new Float32Array(7)))).toBe('TypeError: out must be a Float64Array');
    expect(thrownBy(() => statMembers('/', ['a', 'b'], new Float64Array(MEMBER_FIELDS)))).toBe('TypeError: out is too short');
    expect(thrownBy(() => statMembers('/', [1], new Float64Array(MEMBER_FIELDS)))).toBe('TypeError: names must hold strings');
  });
});
