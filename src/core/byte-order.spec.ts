import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compareKeys } from './byte-order.js';

const utf8Order = (a: string, b: string): number => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('compareKeys', () => {
  it.each([
    ['a', 'b', -1],
    ['a', 'a', 0],
    ['a', 'a/', -1],
    ['a/b', 'a0', -1],
    ['Z', 'a', -1],
    ['z', 'é', -1],
    ['é', '\uE000', -1],
    // Code units say U+D83D < U+E000; UTF-8 bytes (F0 … vs EE …) say the emoji is larger.
    ['\uE000', '\u{1F600}', -1],
    ['\uFFFD', '\u{1F600}', -1],
    ['\uFFFF', '\u{10000}', -1],
    ['\u{1F600}', '\u{1F601}', -1],
    ['a\u{1F600}', 'a\uFFFD', 1],
    ['', 'a', -1],
  ])('compareKeys(%j, %j) has sign %d, like Buffer.compare of UTF-8', (a, b, sign) => {
    expect(Math.sign(compareKeys(a, b))).toBe(sign);
    expect(Math.sign(compareKeys(b, a))).toBe(-sign || 0);
    expect(utf8Order(a, b)).toBe(sign);
  });

  it('agrees with UTF-8 byte order on arbitrary well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(utf8Order(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});
