/**
 * The native helper that makes a small upload durable in one trip through the thread pool
 * (native/durableWrite.c): create the temporary, write, set mode and times, fsync, rename over the
 * target. keepdav runs without it (no compiler at install): small uploads then take the streaming
 * path's three trips (atomicWrite.ts).
 *
 *   const fd = await durableWriteHelper()?.write({ tempHost, bytes, mode, mtimeMs, targetHost });
 *
 * Resolves with the new file's descriptor, open read-write (the caller takes its stats and closes
 * it). Rejects with an errno error as node:fs makes them (code, errno, syscall, path), and then
 * nothing is left: no temporary, no descriptor, the target untouched unless the rename happened.
 */
import { errnoError, loadNativeHelper, nativeHelperPath } from '../nativeHelpers';
import { fsyncTook } from './fsyncTiming';

export const DURABLE_WRITE_BINARY = nativeHelperPath('durable_write');

interface DurableWriteBinding {
  write(
    tempPath: string, bytes: Buffer, mode: number, atimeMs: number, mtimeMs: number, targetPath: string,
    done: (errno: number, step: number, fd: number, fsyncSeconds: number) => void,
  ): void;
  STEP_CREATE: number;
  STEP_WRITE: number;
  STEP_RENAME: number;
}

export interface DurableWrite {
  /** Where the temporary is created (a new name). */
  tempHost: string;
  bytes: Buffer;
  /** Permission bits for the new file; the create's own (0666 less the umask) when absent. */
  mode?: number;
  /** The modification time to give it, to the nanosecond (its access time becomes now); untouched when absent. */
  mtimeMs?: number;
  /** What the temporary is renamed over. */
  targetHost: string;
}

export interface DurableWriteHelper {
  write(request: DurableWrite): Promise<number>;
}

let binaryPath: string | null = DURABLE_WRITE_BINARY;
let helper: DurableWriteHelper | null | undefined;

/** The helper, or null when it was not built (or is turned off for a test). */
export function durableWriteHelper(): DurableWriteHelper | null {
  if (helper === undefined) {
    const binding = binaryPath === null ? null : loadNativeHelper<DurableWriteBinding>(binaryPath);
    helper = binding === null ? null : { write: (request) => writeThrough(binding, request) };
  }
  return helper;
}

function writeThrough(binding: DurableWriteBinding, request: DurableWrite): Promise<number> {
  const { tempHost, bytes, mode, mtimeMs, targetHost } = request;
  return new Promise<number>((resolve, reject) => {
    binding.write(tempHost, bytes, mode === undefined ? -1 : mode & 0o7777, Date.now(), mtimeMs ?? NaN, targetHost, (errno, step, fd, fsyncSeconds) => {
      if (fsyncSeconds >= 0) fsyncTook('file', fsyncSeconds);
      if (errno === 0) resolve(fd);
      else reject(errnoError(errno, step === binding.STEP_CREATE ? 'open' : step === binding.STEP_RENAME ? 'rename' : 'write', tempHost));
    });
  });
}

/** For tests: turn the helper off (small uploads then stream as large ones do) and on again. */
export const durableWriteForTests = {
  use(on: boolean): void {
    binaryPath = on ? DURABLE_WRITE_BINARY : null;
    helper = undefined;
  },
  available: (): boolean => durableWriteHelper() !== null,
};
