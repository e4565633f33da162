/** Shared helpers of the storage tests: a fresh temporary root, bodies, and views of the disk. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** A fresh directory under os.tmpdir(); remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function freshDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `keepdav-${label}-`));
}

/** Where a FileStore of these tests keeps retained bytes: none of them keeps any (the contract suite does), so it is never created. */
export const UNUSED_KEPT_DIR = join(tmpdir(), 'keepdav-storage-tests-keep-nothing');

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A body that yields `content` in chunks of `chunkSize` bytes. */
export function bodyOf(content: string | Buffer, chunkSize = 7): Readable {
  const bytes = Buffer.from(content);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

/** A lazily generated body of `count` chunks of `chunkSize` bytes (far more than any buffer). */
export function longBody(count = 256, chunkSize = 64 * 1024): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < count; i++) yield Buffer.alloc(chunkSize, i % 251);
  })(), { objectMode: false });
}

/** How a test body ends badly. */
export type BodyFailure = 'error' | 'premature-close' | 'aborted';

/** A body that sends `sent` and then fails the way `failure` says, without ever ending. */
export function failingBody(sent: string, failure: BodyFailure): Readable {
  let pushed = false;
  const body = new Readable({
    read() {
      if (pushed) return;
      pushed = true;
      this.push(Buffer.from(sent));
      setTimeout(() => {
        if (failure === 'error') body.destroy(new Error('connection reset'));
        else if (failure === 'premature-close') body.destroy();
        else body.emit('aborted');
      }, 5);
    },
  });
  return body;
}

/** The names of the temp files left anywhere under `dir`. */
export function tempFilesUnder(dir: string): string[] {
  return Object.keys(snapshot(dir, true)).filter((p) => p.split('/').some((s) => s.startsWith('.keepdav-')));
}

/**
 * The tree under `dir` as relative path => 'dir' | 'link:<target>' | file content (utf8).
 * Reserved names are left out unless `withReserved`.
 */
export function snapshot(dir: string, withReserved = false, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (!withReserved && name.startsWith('.keepdav-')) continue;
    const host = join(dir, name);
    const rel = prefix + name;
    const stats = lstatSync(host);
    if (stats.isSymbolicLink()) out[rel] = 'link:' + readlinkSync(host);
    else if (stats.isDirectory()) {
      out[rel] = 'dir';
      Object.assign(out, snapshot(host, withReserved, rel + '/'));
    } else out[rel] = readFileSync(host, 'utf8');
  }
  return out;
}

/** A Node-style errno error, as fs would throw it. */
export function errnoError(code: string, errno?: number): NodeJS.ErrnoException {
  const err = new Error(`${code}: simulated`) as NodeJS.ErrnoException;
  err.code = code;
  if (errno !== undefined) err.errno = errno;
  return err;
}

/** A directory on another filesystem than the test's temporary directory (tmpfs), or null when there is none. */
export function otherFilesystem(near: string): string | null {
  for (const base of ['/dev/shm', '/run']) {
    try {
      if (statSync(base).dev === statSync(near).dev) continue;
      const dir = join(base, `keepdav-uploads-test-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      // not there, or not writable
    }
  }
  return null;
}
