import { parseLockTokenHeader } from '../../../src/headers/lockToken';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseLockTokenHeader (RFC 4918 §10.5)', () => {
  test.each([
    ['<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>', 'urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2'],
    ['<opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4>', 'opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4'],
    // the Windows redirector sends the token bare
    ['opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4', 'opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4'],
    ['  <urn:uuid:abc>  ', 'urn:uuid:abc'],
    ['<DAV:no-lock>', 'DAV:no-lock'],
  ])('%p -> %p', (value, expected) => {
    expect(parseLockTokenHeader(value)).toBe(expected);
  });

  test.each<[string | undefined]>([
    [undefined],
    [''],
    ['   '],
    ['<>'],
    ['<urn:uuid:abc'],
    ['urn:uuid:abc>'],
    ['<urn:uuid:a bc>'],
    ['urn:uuid:a bc'],
    ['<<urn:uuid:abc>>'],
    ['<urn:uuid:abc> <urn:uuid:def>'],
    ['<no-scheme-token>'],
    ['1abc:def'],
    ['<urn:uuid:"x">'],
    ['<urn:uuid:a\tb>'],
  ])('%p throws', (value) => {
    expect(() => parseLockTokenHeader(value)).toThrow(HeaderSyntaxError);
  });
});
