/**
 * Fresh, identical temporary data for each benchmarked server, written to disk before the server
 * starts, and removed afterwards (also at exit through cleanup.ts).
 *
 * Usage:
 *   const large = createLargeSource(bytes);           // once per run (0 bytes: none)
 *   const data = createBenchData('nginx', large);     // per server
 *   serve data.root (state in data.state) ... ; removeBenchData(data); removeLargeSource(large);
 *
 * Layout under the served root (URL paths in FIXTURE):
 *   small-4k.bin                  4 KiB of random bytes                (GET rows)
 *   listing-1000/file-NNNNN.txt   1,000 files of 100 bytes             (PROPFIND 1,000)
 *   listing-10000/file-NNNNN.txt  10,000 files of 100 bytes            (PROPFIND 10,000)
 *   put-4k/                       empty collection for new files       (PUT 4 KiB)
 *   locks/lock-NNNN.txt           LOCK_FILE_COUNT small files          (LOCK+UNLOCK)
 *   large-get.bin                 a hard link to the large source file (GET large)
 * Beside the root: `htpasswd`, one bcrypt user (BENCH_USER) for the signed-in GET row.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onCleanup } from './cleanup';
import bcrypt from 'bcryptjs';

export const SMALL_FILE_BYTES = 4096;
export const LISTING_SIZES = [1000, 10000] as const;
export const LOCK_FILE_COUNT = 1024;

export const FIXTURE = {
  smallFile: 'small-4k.bin',
  listing: (count: number): string => `listing-${count}/`,
  putDir: 'put-4k/',
  lockDir: 'locks/',
  largeGet: 'large-get.bin',
} as const;

/** The user the signed-in GET row signs in as; bcrypt at cost 10, so only the credential cache keeps it fast. */
export const BENCH_USER = { name: 'bench', password: 'bench password' } as const;

export interface BenchData {
  baseDir: string;
  root: string;
  state: string;
  /** An htpasswd file holding BENCH_USER. */
  users: string;
  /** keepdav-pg: its state database's URL, set by the runner once the cluster is up. */
  stateUrl?: string;
  forgetCleanup: () => void;
}

export interface LargeSource {
  dir: string;
  /** The file PUT by the large PUT row and linked as large-get.bin; null when not needed. */
  file: string | null;
  bytes: number;
  forgetCleanup: () => void;
}

/** The same bytes for every server in one run. */
const smallFileContent = crypto.randomBytes(SMALL_FILE_BYTES);

function listingFileName(index: number): string {
  return `file-${String(index).padStart(5, '0')}.txt`;
}

export function createLargeSource(bytes: number): LargeSource {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keepdav-bench-large-'));
  const forgetCleanup = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  if (bytes === 0) return { dir, file: null, bytes, forgetCleanup };
  const file = path.join(dir, 'large.bin');
  const fd = fs.openSync(file, 'w');
  try {
    const block = crypto.randomBytes(8 * 1024 * 1024);
    for (let offset = 0; offset < bytes; offset += block.length) {
      fs.writeSync(fd, block, 0, Math.min(block.length, bytes - offset));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(dir, 0o755);
  return { dir, file, bytes, forgetCleanup };
}

export function removeLargeSource(source: LargeSource): void {
  fs.rmSync(source.dir, { recursive: true, force: true });
  source.forgetCleanup();
}

export function createBenchData(serverName: string, large: LargeSource): BenchData {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), `keepdav-bench-${serverName}-`));
  const forgetCleanup = onCleanup(() => fs.rmSync(baseDir, { recursive: true, force: true }));
  const root = path.join(baseDir, 'root');
  const state = path.join(baseDir, 'state');
  fs.mkdirSync(root);
  fs.mkdirSync(state);

  fs.writeFileSync(path.join(root, FIXTURE.smallFile), smallFileContent);
  for (const count of LISTING_SIZES) {
    const listing = path.join(root, FIXTURE.listing(count));
    fs.mkdirSync(listing);
    for (let i = 0; i < count; i++) {
      fs.writeFileSync(path.join(listing, listingFileName(i)), `listing file ${i}\n`.padEnd(100, '.'));
    }
  }
  fs.mkdirSync(path.join(root, FIXTURE.putDir));
  const locks = path.join(root, FIXTURE.lockDir);
  fs.mkdirSync(locks);
  for (let i = 0; i < LOCK_FILE_COUNT; i++) {
    fs.writeFileSync(path.join(locks, `lock-${String(i).padStart(4, '0')}.txt`), `lock target ${i}\n`);
  }
  // A hard link: every server reads the same bytes without 512 MiB written per server.
  if (large.file) fs.linkSync(large.file, path.join(root, FIXTURE.largeGet));
  const users = path.join(baseDir, 'htpasswd');
  fs.writeFileSync(users, `${BENCH_USER.name}:${bcrypt.hashSync(BENCH_USER.password, 10)}\n`);
  return { baseDir, root, state, users, forgetCleanup };
}

export function removeBenchData(data: BenchData): void {
  fs.rmSync(data.baseDir, { recursive: true, force: true });
  data.forgetCleanup();
}
