import { checksumHeader, contradictedClaim, formatChecksums, parseOcChecksum } from '../../../src/headers/ocChecksum';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

const SHA1 = 'a'.repeat(40);
const MD5 = 'b'.repeat(32);

describe('parseOcChecksum (ownCloud OC-Checksum)', () => {
  test.each<[string | undefined, Array<{ type: string; hex: string }>]>([
    [undefined, []],
    [`SHA1:${SHA1}`, [{ type: 'SHA1', hex: SHA1 }]],
    [`md5:${MD5.toUpperCase()}`, [{ type: 'MD5', hex: MD5 }]],
    [`SHA1:${SHA1} MD5:${MD5}`, [{ type: 'SHA1', hex: SHA1 }, { type: 'MD5', hex: MD5 }]],
    ['ADLER32:0badc0de', []],
    [`Adler32:1 SHA1:${SHA1}`, [{ type: 'SHA1', hex: SHA1 }]],
    ['  ', []],
  ])('%p', (value, expected) => {
    expect(parseOcChecksum(value)).toEqual(expected);
  });

  test.each(['SHA1', ':abc', `SHA1:${SHA1}0`, 'MD5:xyz', `SHA1:${'g'.repeat(40)}`])('%p is a syntax error', (value) => {
    expect(() => parseOcChecksum(value)).toThrow(HeaderSyntaxError);
  });

  test('contradictedClaim names the first claim the digests contradict', () => {
    const digests = { sha1: SHA1, md5: MD5 };
    expect(contradictedClaim(parseOcChecksum(`SHA1:${SHA1} MD5:${MD5}`), digests)).toBeNull();
    expect(contradictedClaim(parseOcChecksum(`MD5:${'c'.repeat(32)}`), digests)).toEqual({ claim: { type: 'MD5', hex: 'c'.repeat(32) }, computed: MD5 });
  });

  test('formats the property value and the response header', () => {
    expect(formatChecksums({ sha1: SHA1, md5: MD5 })).toBe(`SHA1:${SHA1} MD5:${MD5}`);
    expect(checksumHeader({ sha1: SHA1, md5: MD5 })).toBe(`SHA1:${SHA1}`);
  });
});
