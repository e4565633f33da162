import { isEntityTag, readEntityTag, strongMatch, weakMatch } from '../../../src/headers/entityTag';

describe('entity-tag comparison: the RFC 9110 §8.8.3.2 example table', () => {
  test.each<[string, string, boolean, boolean]>([
    // ETag 1, ETag 2, strong comparison, weak comparison
    ['W/"1"', 'W/"1"', false, true],
    ['W/"1"', 'W/"2"', false, false],
    ['W/"1"', '"1"', false, true],
    ['"1"', '"1"', true, true],
  ])('%s vs %s', (a, b, strong, weak) => {
    expect(strongMatch(a, b)).toBe(strong);
    expect(strongMatch(b, a)).toBe(strong);
    expect(weakMatch(a, b)).toBe(weak);
    expect(weakMatch(b, a)).toBe(weak);
  });

  test('comparison is case-sensitive inside the quotes', () => {
    expect(strongMatch('"abc"', '"ABC"')).toBe(false);
    expect(weakMatch('"abc"', '"ABC"')).toBe(false);
  });
});

describe('entity-tag syntax (RFC 9110 §8.8.3)', () => {
  test.each<[string, boolean]>([
    ['"abc"', true],
    ['W/"abc"', true],
    ['""', true],
    ['"I am an ETag"', true], // RFC 4918 §10.4.6 writes tags with spaces
    ['"a]b,c"', true],
    ['"\u00e9"', true], // obs-text
    ['abc', false],
    ['"abc', false],
    ['w/"abc"', false], // "W/" is case-sensitive
    ['W/ "abc"', false],
    ['"a"b"', false],
    ['"a"x', false],
    ['"a\u0000"', false],
    ['"a\u007f"', false],
    ['"\u0100"', false],
    ['', false],
  ])('%p -> %p', (text, expected) => {
    expect(isEntityTag(text)).toBe(expected);
  });

  test('readEntityTag stops right after the closing quote', () => {
    expect(readEntityTag('x "a" , W/"b"', 2)).toEqual({ tag: '"a"', end: 5 });
    expect(readEntityTag('x "a" , W/"b"', 8)).toEqual({ tag: 'W/"b"', end: 13 });
    expect(readEntityTag('x "a" , W/"b"', 0)).toBeNull();
  });
});
