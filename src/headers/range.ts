import { isEntityTag, strongMatch } from './entityTag';
import { parseHttpDate } from './httpDate';

/** One satisfiable byte range, both ends inclusive, within the representation. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * RFC 9110 §14.1.1:
 *   ranges-specifier = range-unit "=" range-set
 *   range-set        = 1#range-spec
 *   int-range        = first-pos "-" [ last-pos ]
 *   suffix-range     = "-" suffix-length
 */
const RANGES_SPECIFIER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/s;
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * Parses a Range header against a representation of `size` bytes (RFC 9110 §14.2).
 * Returns the one range to send (end clamped to the last byte), 'unsatisfiable' when the
 * single range is well-formed but no byte of it lies inside the representation (the caller
 * answers 416 with `Content-Range: bytes * /size`), or null when the header must be ignored
 * and the whole representation sent with 200: absent, a unit other than "bytes" (matched
 * without regard to case), malformed (including last-pos < first-pos, §14.1.2), or several
 * ranges (we never build multipart/byteranges). Never throws.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (value === undefined) return null;
  const specifier = RANGES_SPECIFIER.exec(value.trim());
  if (!specifier || specifier[1].toLowerCase() !== 'bytes') return null;
  const specs = specifier[2].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return null;
  return satisfy(specs[0], size);
}

function satisfy(spec: string, size: number): ByteRange | 'unsatisfiable' | null {
  const suffix = SUFFIX_RANGE.exec(spec);
  if (suffix) {
    // §14.1.3: the last N bytes; a zero suffix-length or an empty representation is unsatisfiable.
    const length = Number(suffix[1]);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const int = INT_RANGE.exec(spec);
  if (!int) return null;
  const first = Number(int[1]);
  const last = int[2] === '' ? Infinity : Number(int[2]);
  if (last < first) return null; // §14.1.1: invalid, so the whole header is ignored
  if (first >= size) return 'unsatisfiable'; // §14.1.1: satisfiable only if first-pos < length
  return { start: first, end: Math.min(last, size - 1) };
}

/**
 * Decides whether an If-Range header lets the Range header apply (RFC 9110 §13.1.5).
 * Returns true when the header is absent; when it is an entity-tag, true only on a STRONG
 * match with the current `etag` (a weak tag never matches); when it is an HTTP-date, true only
 * when it equals the resource's modification time exactly at one-second resolution. False for
 * anything else (an invalid value means "send the whole representation", §13.2.2 step 5).
 * Never throws.
 */
export function ifRangeAllows(value: string | undefined, etag: string | null, lastModifiedMs: number | null): boolean {
  if (value === undefined) return true;
  const trimmed = value.trim();
  if (isEntityTag(trimmed)) return etag !== null && strongMatch(trimmed, etag);
  const date = parseHttpDate(trimmed);
  if (date === null || lastModifiedMs === null) return false;
  return Math.floor(date / 1000) === Math.floor(lastModifiedMs / 1000);
}
