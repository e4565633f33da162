/**
 * A small local tree with the names real users have (Unicode in both forms, spaces, apostrophes,
 * punctuation) and varied sizes and mtimes, shared by the real-client sessions in test/e2e/.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pseudoRandomBytes, removeDir, tempDir } from './realClientKit';
import { startTestServer, type TestServer } from './testServer';

export const AWKWARD_BASE_MTIME = 1_600_000_000; // 2020-09-13

/** Relative file paths of the tree (directories are implied). */
export const AWKWARD_FILES = [
  "it's here.txt",
  'été/naïve – 日本語.txt',
  'été/données (v2).bin',
  'with space/a&b+c.txt',
  'with space/semi;colon=and,comma.txt',
  "with space/l'apostrophe d'été/deep file.txt",
  'Ünïcødé/ßtraße €.dat',
  'plain/empty.bin',
  'plain/bigger.bin',
];

/** The content of each file of the tree (deterministic). */
export function awkwardContent(rel: string, index: number): Buffer {
  if (rel.endsWith('empty.bin')) return Buffer.alloc(0);
  if (rel.endsWith('bigger.bin')) return pseudoRandomBytes(300_000, 77);
  return Buffer.concat([Buffer.from(`${rel}\n`), pseudoRandomBytes(100 + index * 37, index + 1)]);
}

/** Writes the tree under `root` with mtimes AWKWARD_BASE_MTIME + i * 3601; returns its files. */
export function writeAwkwardTree(root: string, files: readonly string[] = AWKWARD_FILES): string[] {
  files.forEach((rel, i) => {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, awkwardContent(rel, i));
    utimesSync(abs, AWKWARD_BASE_MTIME + i * 3601, AWKWARD_BASE_MTIME + i * 3601);
  });
  return [...files];
}

/** A real client's session: a server over a fresh root, a work folder, and the tree in work/local. */
export interface AwkwardSession {
  t: TestServer;
  work: string;
  local: string;
}

export async function startAwkwardSession(name: string): Promise<AwkwardSession> {
  const t = await startTestServer();
  const work = tempDir(name);
  const local = join(work, 'local');
  mkdirSync(local);
  writeAwkwardTree(local);
  return { t, work, local };
}

export async function endAwkwardSession(session: Partial<AwkwardSession>): Promise<void> {
  await session.t?.close();
  removeDir(session.work);
}

/** A relative path's segments percent-encoded, the apostrophe too (some clients' parsers stop at it). */
export function encodePath(rel: string): string {
  return rel.split('/').map(encodeURIComponent).join('/').replace(/'/g, '%27');
}
