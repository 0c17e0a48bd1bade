import type { SortedKeys } from './sorted-keys.js';

/**
 * Consul `?keys&separator=S` (API.md §5.2.3): every key under prefix, except that a key whose
 * rest (the part after the prefix) contains S is cut just after the first S in that rest.
 *
 * Invariant used for de-duplication: the keys that fold to the same cut `c` are exactly the
 * keys starting with `c` (any key starting with `c` has its first S of the rest at the same
 * place, because an earlier S would lie inside `c` too), and they are contiguous in key order.
 * So after emitting `c` the scan jumps past that run with one binary search: a listing costs
 * O((emitted + unfolded) · log n), not a pass over every key under the prefix. A key that is
 * not cut has no S in its rest, so it can never equal a cut and never repeats.
 */
export function listKeys(order: SortedKeys, prefix: string, separator?: string): string[] {
  // An empty separator folds nothing, as in Consul.
  const fold = separator === '' ? undefined : separator;
  const listed: string[] = [];
  let position = order.lowerBound(prefix);
  while (position < order.size) {
    const key = order.at(position) as string;
    if (!key.startsWith(prefix)) break;
    const cut = fold === undefined ? -1 : key.indexOf(fold, prefix.length);
    if (fold === undefined || cut < 0) {
      listed.push(key);
      position++;
      continue;
    }
    const folded = key.slice(0, cut + fold.length);
    listed.push(folded);
    position = order.prefixEnd(folded, position + 1);
  }
  return listed;
}
