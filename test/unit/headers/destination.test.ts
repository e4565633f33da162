import { parseDestination } from '../../../src/headers/destination';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseDestination (RFC 4918 §10.3)', () => {
  test.each<[string, string, string | undefined, string, boolean]>([
    // name, value, request Host, urlPath, sameHost
    ['absolute URI, same host', 'http://example.com/a/b', 'example.com', '/a/b', true],
    ['host compared case-insensitively', 'http://EXAMPLE.com/a', 'example.COM', '/a', true],
    ['explicit port equal', 'http://localhost:8080/x', 'localhost:8080', '/x', true],
    ['port differs', 'http://localhost:8081/x', 'localhost:8080', '/x', false],
    ['port missing on one side', 'http://localhost/x', 'localhost:8080', '/x', false],
    ['default port 80 equals none', 'http://example.com:80/x', 'example.com', '/x', true],
    ['default port 443 equals none', 'https://example.com:443/x', 'example.com', '/x', true],
    ['request Host with :80', 'http://example.com/x', 'example.com:80', '/x', true],
    ['empty port equals none', 'http://example.com:/x', 'example.com', '/x', true],
    ['other host', 'http://evil.example/x', 'example.com', '/x', false],
    ['no Host header', 'http://example.com/x', undefined, '/x', false],
    ['non-http scheme is another server', 'ftp://example.com/x', 'example.com', '/x', false],
    ['HTTPS scheme upper case', 'HTTPS://example.com/x', 'example.com', '/x', true],
    ['userinfo ignored', 'http://user:pw@example.com/x', 'example.com', '/x', true],
    ['IPv6 literal with port', 'http://[::1]:8080/x', '[::1]:8080', '/x', true],
    ['IPv6 literal without port', 'http://[::1]/x', '[::1]', '/x', true],
    ['no path means root', 'http://example.com', 'example.com', '/', true],
    ['query stripped', 'http://example.com/a?b=c', 'example.com', '/a', true],
    ['fragment stripped', 'http://example.com/a#frag', 'example.com', '/a', true],
    ['only a query', 'http://example.com?q', 'example.com', '/', true],
    ['percent-encoding kept as is', 'http://example.com/a%20b/%C3%A9', 'example.com', '/a%20b/%C3%A9', true],
    ['encoded slash kept encoded', 'http://example.com/a%2Fb', 'example.com', '/a%2Fb', true],
    ['trailing slash kept', 'http://example.com/dir/', 'example.com', '/dir/', true],
    ['dot segments left for the edge', 'http://example.com/a/../b', 'example.com', '/a/../b', true],
    ['absolute path', '/dir/b', 'example.com', '/dir/b', true],
    ['absolute path without Host', '/dir/b', undefined, '/dir/b', true],
    ['absolute path, query stripped', '/dir/b?x=1#y', 'example.com', '/dir/b', true],
    ['surrounding whitespace', '  /a  ', 'example.com', '/a', true],
    ['raw space is encoded', '/a b', 'example.com', '/a%20b', true],
    // Node hands header bytes over as latin1: raw UTF-8 "é" (C3 A9) arrives as "Ã©"
    ['raw UTF-8 bytes become percent-encoded', '/caf\u00c3\u00a9', 'example.com', '/caf%C3%A9', true],
    ['non-latin1 characters are encoded as UTF-8', '/\u20ac', 'example.com', '/%E2%82%AC', true],
    ['astral characters are encoded as UTF-8', '/\u{1F600}', 'example.com', '/%F0%9F%98%80', true],
    ['sub-delims kept', "/a!$&'()*+,;=:@b", 'example.com', "/a!$&'()*+,;=:@b", true],
  ])('%s', (_name, value, host, urlPath, sameHost) => {
    expect(parseDestination(value, host)).toEqual({ urlPath, sameHost });
  });

  test.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['relative reference', 'b.txt'],
    ['relative with dot', './b'],
    ['network-path reference', '//example.com/a'],
    ['scheme without authority', 'http:/a/b'],
    ['urn', 'urn:foo:bar'],
    ['empty authority', 'http:///a'],
    ['only userinfo', 'http://user@/a'],
    ['non-numeric port', 'http://example.com:http/a'],
    ['two colons', 'http://a:b:c/a'],
    ['unterminated IPv6', 'http://[::1/a'],
    ['bad host character', 'http://exa mple.com/a'],
    ['bad percent-encoding', '/a%zzb'],
    ['truncated percent-encoding', '/a%2'],
    ['control character', '/a\u0001b'],
    ['DEL character', '/a\u007fb'],
  ])('%s throws', (_name, value) => {
    expect(() => parseDestination(value, 'example.com')).toThrow(HeaderSyntaxError);
  });

  test('the error names the Destination header', () => {
    expect(() => parseDestination('b.txt', 'example.com')).toThrow(/Destination/);
  });
});
