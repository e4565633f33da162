import { parseDepth } from '../../../src/headers/depth';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseDepth (RFC 4918 §10.2)', () => {
  test.each([
    [undefined, undefined],
    ['0', '0'],
    ['1', '1'],
    ['infinity', 'infinity'],
    ['Infinity', 'infinity'],
    ['INFINITY', 'infinity'],
    [' 1 ', '1'],
  ])('%p -> %p', (value, expected) => {
    expect(parseDepth(value)).toBe(expected);
  });

  test.each(['', ' ', '2', '-1', '01', 'infinite', 'inf', '0,1', '1 1', 'one'])('%p throws', (value) => {
    expect(() => parseDepth(value)).toThrow(HeaderSyntaxError);
  });

  test('the error names the header', () => {
    try {
      parseDepth('2');
      throw new Error('no throw');
    } catch (err) {
      expect(err).toBeInstanceOf(HeaderSyntaxError);
      expect((err as HeaderSyntaxError).header).toBe('Depth');
      expect((err as HeaderSyntaxError).detail).toContain('2');
      expect((err as Error).name).toBe('HeaderSyntaxError');
    }
  });
});
