import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SortedKeys } from './sorted-keys.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const key = fc.constantFrom('', 'a', 'a/', 'a/b', 'a/b/c', 'ab', 'b', '\uE000', '\u{1F600}', '\u{1F600}/x', '\uFFFF', 'é');

type Operation =
  | { readonly op: 'insert'; readonly keys: string[] }
  | { readonly op: 'insertSorted'; readonly keys: string[] }
  | { readonly op: 'removeAll'; readonly keys: string[] }
  | { readonly op: 'removePrefix'; readonly prefix: string };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.array(key, { maxLength: 3 }).map((keys) => ({ op: 'insert' as const, keys })),
  fc.array(key, { maxLength: 12 }).map((keys) => ({ op: 'insertSorted' as const, keys })),
  fc.array(key, { maxLength: 12 }).map((keys) => ({ op: 'removeAll' as const, keys })),
  key.map((prefix) => ({ op: 'removePrefix' as const, prefix })),
);

describe('SortedKeys', () => {
  it('matches a naive sorted array under inserts, bulk merges and bulk removals', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 30 }), (operations) => {
        const sorted = new SortedKeys();
        let model: string[] = [];
        for (const operation of operations) {
          if (operation.op === 'removePrefix') {
            const start = sorted.lowerBound(operation.prefix);
            const removed = sorted.removeRange(start, sorted.prefixEnd(operation.prefix, start));
            expect(removed).toEqual(model.filter((k) => k.startsWith(operation.prefix)));
            model = model.filter((k) => !k.startsWith(operation.prefix));
            continue;
          }
          const present = new Set(model);
          const distinct = [...new Set(operation.keys)].sort(byBytes);
          if (operation.op === 'removeAll') {
            const removed = new Set(distinct.filter((k) => present.has(k)));
            sorted.removeAll(removed);
            model = model.filter((k) => !removed.has(k));
            continue;
          }
          const added = distinct.filter((k) => !present.has(k));
          if (operation.op === 'insert') for (const k of added) sorted.insert(k);
          else sorted.insertSorted(added);
          model = [...model, ...added].sort(byBytes);
        }
        expect([...sorted]).toEqual(model);
        expect(sorted.size).toBe(model.length);
        for (const prefix of ['', 'a', 'a/', '\u{1F600}', '\uE000', 'zz']) {
          expect([...sorted.withPrefix(prefix)]).toEqual(model.filter((k) => k.startsWith(prefix)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a', 1],
    ['a/', 2],
    ['a0', 5],
    ['', 0],
    ['zz', 6],
  ])('lowerBound(%j) = %d and prefixEnd skips the run', (prefix, start) => {
    const sorted = new SortedKeys();
    sorted.insertSorted(['', 'a', 'a/', 'a/b', 'a/c', 'b']);
    expect(sorted.lowerBound(prefix)).toBe(start);
    const end = sorted.prefixEnd(prefix, start);
    for (let i = start; i < end; i++) expect(sorted.at(i)?.startsWith(prefix)).toBe(true);
    expect(sorted.at(end)?.startsWith(prefix) ?? false).toBe(false);
  });
});
