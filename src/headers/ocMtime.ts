import { HeaderSyntaxError } from './headerSyntaxError';

/** 9999-12-31T23:59:59Z in unix seconds: the last second an HTTP-date can express. */
const LAST_SECOND_OF_9999 = 253402300799;

/**
 * Parses the X-OC-Mtime request header (ownCloud/Nextcloud convention, sent by rclone, the
 * desktop sync clients and lftp on PUT, COPY and MOVE): the modification time the client
 * wants the file to have, in unix seconds, either an integer or a decimal ("1700000000.25").
 * Returns milliseconds since the epoch (digits beyond the millisecond are dropped);
 * undefined when the header is absent. Surrounding whitespace is ignored.
 * @throws HeaderSyntaxError when the value is empty, negative, not a plain decimal number
 *   (no sign, exponent, hex or "NaN"), or later than the year 9999.
 */
export function parseOcMtime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new HeaderSyntaxError('X-OC-Mtime', `not a non-negative number of seconds: "${value}"`);
  const wholeSeconds = Number(match[1]);
  if (wholeSeconds > LAST_SECOND_OF_9999) {
    throw new HeaderSyntaxError('X-OC-Mtime', `beyond the year 9999: "${value}"`);
  }
  const milliseconds = Number((match[2] ?? '').padEnd(3, '0').slice(0, 3));
  return wholeSeconds * 1000 + milliseconds;
}
