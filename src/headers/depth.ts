import { HeaderSyntaxError } from './headerSyntaxError';

/** The Depth header (RFC 4918 §10.2). */
export type Depth = '0' | '1' | 'infinity';

/**
 * Parses the Depth header (RFC 4918 §10.2: Depth = "0" | "1" | "infinity").
 * Returns undefined when the header is absent, so each method applies its own default
 * (PROPFIND and LOCK: infinity; COPY: infinity; MOVE/DELETE on collections: infinity).
 * "infinity" is accepted in any letter case; surrounding whitespace is ignored.
 * @throws HeaderSyntaxError for any other value, the empty string included.
 */
export function parseDepth(value: string | undefined): Depth | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '0' || trimmed === '1') return trimmed;
  if (trimmed.toLowerCase() === 'infinity') return 'infinity';
  throw new HeaderSyntaxError('Depth', `expected 0, 1 or infinity, got "${value}"`);
}
