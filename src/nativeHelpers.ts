/**
 * keepdav's native helpers (native/*.c): `npm install` builds each with node-gyp (binding.gyp) into
 * build/Release/ at the package's root, and keepdav runs without any of them when there was no
 * compiler. This module is the one place that knows where they are and how one is loaded.
 *
 *   const binding = loadNativeHelper<Binding>(nativeHelperPath('zero_copy_send'));   // null: not built
 *   reject(errnoError(errno, 'open', host));   // a helper's errno as the error node:fs would give
 */
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';

/** The built helper `name` (binding.gyp's target_name); this file is in src/ or dist/. */
export function nativeHelperPath(name: string): string {
  return path.join(__dirname, '..', 'build', 'Release', `${name}.node`);
}

/** The helper at `file`, or null when it was not built or cannot load here. */
export function loadNativeHelper<T>(file: string): T | null {
  try {
    return require(file) as T;
  } catch {
    return null;
  }
}

/**
 * A helper's failure (a positive errno) as the error node:fs would give for it (code 'ENOENT',
 * errno, syscall, path), so storage/storageErrors.ts maps it as any other.
 */
export function errnoError(errno: number, syscall: string, hostPath: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${code}: ${syscall} '${hostPath}'`), { code, errno: -errno, syscall, path: hostPath });
}
