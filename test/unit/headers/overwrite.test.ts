import { parseOverwrite } from '../../../src/headers/overwrite';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseOverwrite (RFC 4918 §10.6)', () => {
  test.each([
    [undefined, true],
    ['T', true],
    ['F', false],
    ['t', true],
    ['f', false],
    [' F ', false],
  ])('%p -> %p', (value, expected) => {
    expect(parseOverwrite(value)).toBe(expected);
  });

  test.each(['', 'TRUE', 'false', 'Y', 'N', '1', '0', 'T F', 'TF'])('%p throws', (value) => {
    expect(() => parseOverwrite(value)).toThrow(HeaderSyntaxError);
  });
});
