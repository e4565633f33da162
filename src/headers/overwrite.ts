import { HeaderSyntaxError } from './headerSyntaxError';

/**
 * Parses the Overwrite header of COPY and MOVE (RFC 4918 §10.6: Overwrite = "T" | "F").
 * Returns true when the header is absent: "If the Overwrite header is not included in a COPY
 * or MOVE request, then the resource MUST treat the request as if it has an Overwrite header
 * of value T" (§10.6). Whitespace around the value and a lower-case "t"/"f" are tolerated.
 * @throws HeaderSyntaxError for any other value, the empty string included.
 */
export function parseOverwrite(value: string | undefined): boolean {
  if (value === undefined) return true;
  const flag = value.trim().toUpperCase();
  if (flag === 'T') return true;
  if (flag === 'F') return false;
  throw new HeaderSyntaxError('Overwrite', `expected T or F, got "${value}"`);
}
