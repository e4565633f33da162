import { parseTimeout, usableTimeouts } from '../../../src/headers/timeout';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseTimeout (RFC 4918 §10.7)', () => {
  test.each<[string | undefined, number[]]>([
    [undefined, []],
    ['', []],
    ['  ', []],
    ['Second-3600', [3600]],
    ['Second-0', [0]],
    ['second-600', [600]],
    ['SECOND-1800', [1800]],
    ['Infinite', [Infinity]],
    ['infinite', [Infinity]],
    ['Infinite, Second-4100000000', [Infinity, 4100000000]], // RFC 4918 §9.10.7 example
    ['Second-60,Infinite', [60, Infinity]],
    ['  Second-60 ,   Second-120  ', [60, 120]],
    ['Second-60,,Second-5,', [60, 5]],
    ['Second-007', [7]],
    ['Second-99999999999999999999', [Number.MAX_SAFE_INTEGER]],
    ['Second-' + '9'.repeat(400), [Number.MAX_SAFE_INTEGER]],
  ])('%p -> %p', (value, expected) => {
    expect(parseTimeout(value)).toEqual(expected);
  });

  test.each([
    'Second-',
    'Second--1',
    'Second-1.5',
    'Second-abc',
    'Second 60',
    'Second- 60',
    'Seconds-60',
    'Infinity',
    '3600',
    'Second-60, Forever',
    'Extend',
  ])('%p throws', (value) => {
    expect(() => parseTimeout(value)).toThrow(HeaderSyntaxError);
  });
});

describe('usableTimeouts (RFC 4918 §10.7: a Timeout the server cannot use is ignored)', () => {
  test.each<[string | undefined, number[]]>([
    [undefined, []],
    ['60', []], // nd
    ['Second-60, Forever', [60]],
    ['Infinite, Second-4100000000', [Infinity, 4100000000]],
    ['Extend', []],
    ['Forever', []],
    ['Second-abc', []],
  ])('%p gives %p', (value, expected) => {
    expect(usableTimeouts(value)).toEqual(expected);
  });
});
