import { hasContentRange } from '../../../src/headers/contentRange';

describe('hasContentRange (RFC 9110 §14.4, partial PUT refused)', () => {
  test.each([
    [undefined, false],
    ['', false],
    ['   ', false],
    ['bytes 100-199/200', true],
    ['bytes */200', true],
    ['garbage', true],
  ])('%p -> %p', (value, expected) => {
    expect(hasContentRange(value)).toBe(expected);
  });
});
