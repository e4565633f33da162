/** DavPath from a URL path and back to an href: the plain fast paths answer what the general ones do. */
import { BadPathError, davPathFromUrlPath, hrefOf } from '../../../src/paths/davPath';

describe('davPathFromUrlPath', () => {
  test.each([
    ['/', '/'],
    ['/a', '/a'],
    ['/a/b.txt', '/a/b.txt'],
    ["/x-_.~!$&'()*+,;=:@/y", "/x-_.~!$&'()*+,;=:@/y"],
    ['/a/', '/a'],
    ['/a//b', '/a/b'],
    ['/a%20b', '/a b'],
    ['/%C3%A1', '/\u00e1'],
    ['/a/..b/c..', '/a/..b/c..'],
    ['/.hidden/x.', '/.hidden/x.'],
  ])('%s is %s', (url, path) => {
    expect(davPathFromUrlPath(url)).toBe(path);
  });

  test.each(['/a/../b', '/a/./b', '/..', '/.', '/a/..', '/a/%2e%2e/b', '/a%2Fb/%00', '/a%5Cb', '/%ZZ', 'a/b', ''])('%s is refused', (url) => {
    expect(() => davPathFromUrlPath(url)).toThrow(BadPathError);
  });

  test('a segment of 255 bytes passes and one of 256 is refused, however long the path', () => {
    const ok = '/' + 'a'.repeat(255);
    expect(davPathFromUrlPath(ok)).toBe(ok);
    expect(davPathFromUrlPath('/b' + ok)).toBe('/b' + ok);
    expect(() => davPathFromUrlPath('/' + 'a'.repeat(256))).toThrow(BadPathError);
    expect(() => davPathFromUrlPath('/b/' + 'a'.repeat(256))).toThrow(BadPathError);
  });
});

describe('hrefOf', () => {
  test.each([
    ['/', false, '', '/'],
    ['/', true, '/base', '/base/'],
    ['/a/b.txt', false, '', '/a/b.txt'],
    ['/a/b', true, '/base', '/base/a/b/'],
    ['/a b/\u00e1', false, '', '/a%20b/%C3%A1'],
    ['/a#b/c?d', true, '', '/a%23b/c%3Fd/'],
    ['/100%', false, '', '/100%25'],
  ])('%s (collection: %s, prefix %s) is %s', (path, isCollection, prefix, href) => {
    expect(hrefOf(path, isCollection, prefix)).toBe(href);
  });
});
