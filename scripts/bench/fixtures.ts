/**
 * Fresh, identical temporary data for each benchmarked server, written to disk before the server
 * starts, and removed afterwards (also at exit through cleanup.ts).
 *
 * Usage:
 *   const data = createBenchData('peer', { seedLargeFileBytes: 0 });
 *   serve data.root (state in data.state) ... ; removeBenchData(data);
 *
 * Layout under the served root (URL paths in FIXTURE):
 *   small-4k.bin                 4 KiB of random bytes             (GET row)
 *   listing-1000/file-NNNN.txt   1,000 files of 100 bytes          (PROPFIND row)
 *   put-4k/                      empty collection for new files    (PUT row)
 *   locks/lock-NNNN.txt          LOCK_FILE_COUNT small files       (LOCK+UNLOCK row)
 *   large-1.bin                  only when seeded (GET-large run without PUT-large)
 * Beside the root: `htpasswd`, one bcrypt user (BENCH_USER) for the signed-in GET row.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onCleanup } from './cleanup';
import bcrypt from 'bcryptjs';
import { BLOCK_BYTES, blockByte } from './largeFilePattern';

export const SMALL_FILE_BYTES = 4096;
export const LISTING_FILE_COUNT = 1000;
export const LOCK_FILE_COUNT = 1024;

export const FIXTURE = {
  smallFile: 'small-4k.bin',
  listing: 'listing-1000/',
  putDir: 'put-4k/',
  lockDir: 'locks/',
} as const;

/** The large PUT row writes large-1.bin, large-2.bin...; the large GET row reads large-1.bin. */
export function largeFileName(round: number): string {
  return `large-${round}.bin`;
}

/** The user the signed-in GET row signs in as; bcrypt at cost 10, so only the credential cache keeps it fast. */
export const BENCH_USER = { name: 'bench', password: 'bench password' } as const;

export interface BenchData {
  baseDir: string;
  root: string;
  state: string;
  /** An htpasswd file holding BENCH_USER. */
  users: string;
  forgetCleanup: () => void;
}

export interface BenchDataOptions {
  /** Write large.bin of this size to disk (0: do not). */
  seedLargeFileBytes: number;
}

/** The same bytes for every server in one run. */
const smallFileContent = crypto.randomBytes(SMALL_FILE_BYTES);

export function lockFileName(index: number): string {
  return `lock-${String(index).padStart(4, '0')}.txt`;
}

function listingFileName(index: number): string {
  return `file-${String(index).padStart(4, '0')}.txt`;
}

export function createBenchData(serverName: string, options: BenchDataOptions): BenchData {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), `keepdav-bench-${serverName}-`));
  const forgetCleanup = onCleanup(() => fs.rmSync(baseDir, { recursive: true, force: true }));
  const root = path.join(baseDir, 'root');
  const state = path.join(baseDir, 'state');
  fs.mkdirSync(root);
  fs.mkdirSync(state);

  fs.writeFileSync(path.join(root, FIXTURE.smallFile), smallFileContent);

  const listing = path.join(root, FIXTURE.listing);
  fs.mkdirSync(listing);
  for (let i = 0; i < LISTING_FILE_COUNT; i++) {
    fs.writeFileSync(path.join(listing, listingFileName(i)), `listing file ${i}\n`.padEnd(100, '.'));
  }

  fs.mkdirSync(path.join(root, FIXTURE.putDir));

  const locks = path.join(root, FIXTURE.lockDir);
  fs.mkdirSync(locks);
  for (let i = 0; i < LOCK_FILE_COUNT; i++) {
    fs.writeFileSync(path.join(locks, lockFileName(i)), `lock target ${i}\n`);
  }

  if (options.seedLargeFileBytes > 0) seedLargeFile(path.join(root, largeFileName(1)), options.seedLargeFileBytes);
  const users = path.join(baseDir, 'htpasswd');
  fs.writeFileSync(users, `${BENCH_USER.name}:${bcrypt.hashSync(BENCH_USER.password, 10)}\n`);
  return { baseDir, root, state, users, forgetCleanup };
}

function seedLargeFile(file: string, totalBytes: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let offset = 0, block = 0; offset < totalBytes; offset += BLOCK_BYTES, block++) {
      fs.writeSync(fd, Buffer.alloc(Math.min(BLOCK_BYTES, totalBytes - offset), blockByte(block)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function removeBenchData(data: BenchData): void {
  fs.rmSync(data.baseDir, { recursive: true, force: true });
  data.forgetCleanup();
}
