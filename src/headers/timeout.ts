import { HeaderSyntaxError } from './headerSyntaxError';

/**
 * Parses the Timeout request header of LOCK (RFC 4918 §10.7):
 *
 *   Timeout       = "Timeout" ":" 1#TimeType
 *   TimeType      = ("Second-" DAVTimeOutVal | "Infinite")
 *   DAVTimeOutVal = 1*DIGIT
 *
 * Returns the client's wishes in order of preference, in seconds, `Infinity` for "Infinite";
 * [] when the header is absent or blank (the server then picks). Keywords are matched without
 * regard to case, whitespace around entries and empty list entries are ignored (RFC 9110
 * §5.6.1). A value beyond Number.MAX_SAFE_INTEGER is clamped to it: a client asking for
 * "very long" is not malformed.
 * @throws HeaderSyntaxError when an entry is neither `Second-<digits>` nor `Infinite`.
 */
export function parseTimeout(value: string | undefined): number[] {
  if (value === undefined) return [];
  const seconds: number[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    seconds.push(parseTimeType(entry));
  }
  return seconds;
}

function parseTimeType(entry: string): number {
  if (entry.toLowerCase() === 'infinite') return Infinity;
  const match = /^second-(\d+)$/i.exec(entry);
  if (!match) throw new HeaderSyntaxError('Timeout', `unknown entry "${entry}"`);
  return Math.min(Number(match[1]), Number.MAX_SAFE_INTEGER);
}

/**
 * The Timeout wishes a LOCK can use: like parseTimeout, but an entry that is not valid syntax
 * (nd sends `Timeout: 60`) is ignored rather than refused, so the server picks its default.
 * RFC 4918 §10.7: the Timeout header is a request the server need not honour.
 */
export function usableTimeouts(value: string | undefined): number[] {
  if (value === undefined) return [];
  return value.split(',').flatMap((raw) => {
    const entry = raw.trim();
    if (entry === '') return [];
    try {
      return [parseTimeType(entry)];
    } catch {
      return [];
    }
  });
}
