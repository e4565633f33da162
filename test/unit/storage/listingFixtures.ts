/**
 * The directories the listing tests read (listingThread.test.ts, nativeListing.test.ts), and what
 * a listing of them must give: every member with lstat's own numbers, symlinks inside followed by
 * the careful path, everything else left out.
 *
 *   makeListingFixtures(dir);                      // dir/mixed, dir/many
 *   expectExactMany(dir, await store.list('/many'));
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileStore } from '../../../src/storage/fileStore';
import type { ResourceStat } from '../../../src/storage/resourceStat';

/** More members than one batch of a listing, and than the minimum looked up off the main thread. */
export const MANY = 700;

/** dir/mixed (a file, a directory, symlinks in and out, a fifo) and dir/many (MANY members and three odd ones). */
export function makeListingFixtures(dir: string): void {
  mkdirSync(join(dir, 'mixed/sub'), { recursive: true });
  writeFileSync(join(dir, 'mixed/file.txt'), 'twelve bytes');
  symlinkSync('file.txt', join(dir, 'mixed/link-inside'));
  symlinkSync('/etc/hostname', join(dir, 'mixed/link-outside'));
  execFileSync('mkfifo', [join(dir, 'mixed/pipe')]);
  mkdirSync(join(dir, 'many'));
  for (let i = 0; i < MANY; i++) {
    if (i % 50 === 0) mkdirSync(join(dir, `many/d${i}`));
    else writeFileSync(join(dir, `many/f${i}.txt`), 'x'.repeat(i));
  }
  symlinkSync(`f1.txt`, join(dir, 'many/link-to-f1'));
  symlinkSync('/etc/hostname', join(dir, 'many/link-outside')); // leads out of the root: never listed
  execFileSync('mkfifo', [join(dir, 'many/link-fifo')]); // a special file: never listed
}

/** What lstat says of a member, in the fields a ResourceStat keeps. */
export function lstatFields(host: string) {
  const s = lstatSync(host);
  const isCollection = s.isDirectory();
  return { isCollection, size: isCollection ? 0 : s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, birthtimeMs: s.birthtimeMs, ino: s.ino, dev: s.dev };
}

/** Every member of `path` through listInBatches(size); `afterFirst` runs once the first batch is in. */
export async function allBatches(store: FileStore, path: string, size: number, afterFirst?: () => Promise<void>): Promise<ResourceStat[]> {
  const batches = await store.listInBatches(path, size);
  const out: ResourceStat[] = [];
  for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
    const first = out.length === 0;
    out.push(...batch);
    if (first && afterFirst) await afterFirst();
  }
  return out;
}

/** `members` are exactly dir/many's: lstat's numbers, the symlink inside followed, the rest left out. */
export function expectExactMany(dir: string, members: ResourceStat[]): void {
  const expected = readdirSync(join(dir, 'many')).filter((n) => !n.startsWith('link')).sort();
  expect(members.map((m) => m.path.slice('/many/'.length)).sort()).toEqual([...expected, 'link-to-f1'].sort());
  for (const m of members) {
    const name = m.path.slice('/many/'.length);
    if (name === 'link-to-f1') expect(m).toMatchObject({ isCollection: false, size: 1 }); // the careful path followed it
    else expect(m).toEqual({ path: m.path, ...lstatFields(join(dir, 'many', name)) });
  }
}

/**
 * A name that is not UTF-8 is never listed, nor breaks the listing when long; a real name holding
 * the U+FFFD it decodes to is listed once: through list() and listInBatches, in collections small
 * enough to be read inline and large enough to be read off the main thread.
 */
export async function expectNamesNotUtf8LeftOut(dir: string, store: FileStore): Promise<void> {
  for (const [collection, fillers] of [['fffd-few', 3], ['fffd-many', 60]] as const) {
    const host = join(dir, collection);
    mkdirSync(host);
    for (let i = 0; i < fillers; i++) writeFileSync(join(host, `n${i}`), '');
    writeFileSync(Buffer.concat([Buffer.from(host + '/bad-'), Buffer.from([0xff]), Buffer.from('-1')]), 'not utf-8');
    writeFileSync(Buffer.concat([Buffer.from(host + '/only-'), Buffer.from([0xfe])]), 'not utf-8, no twin');
    writeFileSync(join(host, 'bad-\uFFFD-1'), 'a real replacement character');
    writeFileSync(Buffer.concat([Buffer.from(host + '/bad-'), Buffer.from([0xc3]), Buffer.from('-1')]), 'not utf-8 either');
    // 200 bytes of Latin-1 "ÿ": 600 bytes once decoded to U+FFFD, past any segment's 255.
    writeFileSync(Buffer.concat([Buffer.from(host + '/'), Buffer.alloc(200, 0xff)]), 'a long name, not utf-8');
    for (const members of [await store.list(`/${collection}`), await allBatches(store, `/${collection}`, 256), await allBatches(store, `/${collection}`, 2)]) {
      const odd = members.map((m) => m.path).filter((p) => !/\/n\d+$/.test(p));
      expect(odd).toEqual([`/${collection}/bad-\uFFFD-1`]);
      expect(members.find((m) => m.path === `/${collection}/bad-\uFFFD-1`)?.size).toBe(Buffer.byteLength('a real replacement character'));
      expect(members.length).toBe(fillers + 1);
    }
  }
}
