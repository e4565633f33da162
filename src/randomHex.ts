/**
 * Random hex strings (temporary file names, ETags) from the system's CSPRNG, drawn from a pool
 * filled 4 KiB at a time: `randomBytes(8)` per call cost about 20 µs of a small PUT's 450 (two per
 * PUT, each a separate OpenSSL call); a slice of the pool costs a fraction of a microsecond. The
 * bytes are the same kind (crypto.randomFillSync), only fetched in bulk; each is used once.
 *
 * Usage: `randomHex(8)` -> 16 lower-case hex digits.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

export function randomHex(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > POOL_BYTES) throw new RangeError(`randomHex: 1..${POOL_BYTES} bytes, got ${bytes}`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
