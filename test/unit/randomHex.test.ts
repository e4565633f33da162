import { randomHex } from '../../src/randomHex';

describe('randomHex', () => {
  test('gives the asked number of bytes as lower-case hex, never the same twice across pool refills', () => {
    const seen = new Set<string>();
    // 4,000 draws of 8 bytes use the 4 KiB pool about eight times over.
    for (let i = 0; i < 4000; i++) {
      const hex = randomHex(8);
      expect(hex).toMatch(/^[0-9a-f]{16}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(4000);
    expect(randomHex(4096)).toMatch(/^[0-9a-f]{8192}$/);
  });

  test('the bytes look random: every hex digit appears about equally often', () => {
    const counts = new Map<string, number>();
    const text = Array.from({ length: 2000 }, () => randomHex(8)).join('');
    for (const digit of text) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    expect(counts.size).toBe(16);
    for (const count of counts.values()) expect(Math.abs(count / text.length - 1 / 16)).toBeLessThan(0.01);
  });

  test.each([0, -1, 1.5, 4097, Number.NaN])('refuses %p bytes', (bytes) => {
    expect(() => randomHex(bytes)).toThrow(RangeError);
  });
});
