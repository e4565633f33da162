import { HeaderSyntaxError } from './headerSyntaxError';

/** 2446-05-10T22:38:55Z in unix seconds: the last second a file can keep (ext4's; props/modificationTime.ts). */
const LAST_STORABLE_SECOND = 15_032_385_535;

/**
 * Parses the X-OC-Mtime request header (ownCloud/Nextcloud convention, sent by rclone, the
 * desktop sync clients and lftp on PUT, COPY and MOVE): the modification time the client
 * wants the file to have, in unix seconds, either an integer or a decimal ("1700000000.25").
 * Returns milliseconds since the epoch (digits beyond the millisecond are dropped);
 * undefined when the header is absent. Surrounding whitespace is ignored.
 * @throws HeaderSyntaxError when the value is empty, negative, not a plain decimal number
 *   (no sign, exponent, hex or "NaN"), or later than a file can keep (2446-05-10, ext4's limit: a
 *   later time would be stored as that one without a word).
 */
export function parseOcMtime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new HeaderSyntaxError('X-OC-Mtime', `not a non-negative number of seconds: "${value}"`);
  const wholeSeconds = Number(match[1]);
  if (wholeSeconds > LAST_STORABLE_SECOND) {
    throw new HeaderSyntaxError('X-OC-Mtime', `later than a file can keep (2446-05-10T22:38:55Z): "${value}"`);
  }
  const milliseconds = Number((match[2] ?? '').padEnd(3, '0').slice(0, 3));
  return wholeSeconds * 1000 + milliseconds;
}
