/**
 * Key order is UTF-8 byte order (Consul's radix tree order), which equals Unicode code point
 * order. Comparing JavaScript strings with `<` uses UTF-16 code units, which agrees with code
 * point order except where a surrogate (U+D800–U+DFFF, half of a code point ≥ U+10000) meets a
 * unit in U+E000–U+FFFF: the surrogate is smaller as a unit but its code point is larger.
 *
 * Invariants:
 * - compareKeys is a total order: lexicographic over code units after the monotone remap below,
 *   so for well-formed strings its sign equals `Buffer.compare(utf8(a), utf8(b))`.
 * - Because it is lexicographic, the keys starting with any string p (`startsWith`) form one
 *   contiguous run that begins at the first key ≥ p. Every prefix read relies on this.
 */

/** Moves surrogates above U+E000–U+FFFF; leaves every unit below U+D800 where it is. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Negative, zero or positive as a sorts before, with or after b in UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Below U+D800 on either side the raw units already order correctly.
      if (x < 0xd800 || y < 0xd800) return x - y;
      return codePointRank(x) - codePointRank(y);
    }
  }
  return a.length - b.length;
}
