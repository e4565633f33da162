/**
 * Sizes and durations with units on the command line: `10GiB`, `512MB`, `10G`; `30d`, `90s`, `12h`.
 * Sizes go through bytes-iec (IEC units are powers of 1024, SI units powers of 1000); a bare
 * K/M/G/T/P means KiB/MiB/GiB/TiB/PiB, as `du -h` and `ls -h` print. Durations go through ms.
 * A plain number keeps the unit the option always had (seconds, days, bytes).
 */
import bytes from 'bytes-iec';
import ms from 'ms';

export class UnitError extends Error {}

const PLAIN_NUMBER = /^\d+(\.\d+)?$/;

/** Bytes from "10GiB", "512MB", "10G" or a plain number of bytes. Throws UnitError naming the option. */
export function parseSize(option: string, value: string): number {
  const text = value.trim().replace(/^(\d+(?:\.\d+)?)\s*([kmgtp])$/i, '$1$2iB');
  const n = PLAIN_NUMBER.test(text) ? Number(text) : bytes.parse(text);
  if (text === '' || typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    throw new UnitError(`--${option} needs a size such as 1048576, 512MB or 10GiB, not "${value}"`);
  }
  return Math.floor(n);
}

/** Milliseconds from "30d", "90s", "1.5h" or a plain number of `plainUnitMs` each. Throws UnitError naming the option. */
export function parseDuration(option: string, value: string, plainUnitMs: number): number {
  const text = value.trim();
  const n = PLAIN_NUMBER.test(text) ? Number(text) * plainUnitMs : text === '' ? undefined : (ms(text as ms.StringValue) as number | undefined);
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    throw new UnitError(`--${option} needs a duration such as 90s, 12h or 30d, not "${value}"`);
  }
  return n;
}
