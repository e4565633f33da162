/**
 * keepdav's native helpers (native/*.c): `npm install` builds each with node-gyp (binding.gyp) into
 * build/Release/ at the package's root, and keepdav runs without any of them when there was no
 * compiler. This module is the one place that knows where they are and how one is loaded.
 *
 *   const binding = loadNativeHelper<Binding>(nativeHelperPath('zero_copy_send'));   // null: not built
 */
import * as path from 'node:path';

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
