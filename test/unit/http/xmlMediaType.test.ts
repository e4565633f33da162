import { xmlContentTypeFor } from '../../../src/http/xmlMediaType';

describe('xmlContentTypeFor (RFC 4918 §8.2; nd reads only text/xml)', () => {
  test.each<[string | undefined, string, string]>([
    ['text/xml; charset="utf-8"', 'application/xml; charset=utf-8', 'text/xml; charset=utf-8'],
    ['TEXT/XML', 'application/xml; charset=utf-8', 'text/xml; charset=utf-8'],
    ['application/xml', 'application/xml; charset=utf-8', 'application/xml; charset=utf-8'],
    [undefined, 'application/xml; charset=utf-8', 'application/xml; charset=utf-8'],
    ['text/xml', 'application/problem+json', 'application/problem+json'],
    ['text/xml', 'text/html; charset=utf-8', 'text/html; charset=utf-8'],
    ['text/xmlish', 'application/xml; charset=utf-8', 'application/xml; charset=utf-8'],
  ])('request %p, answer %p -> %p', (request, response, expected) => {
    expect(xmlContentTypeFor(request, response)).toBe(expected);
  });
});
