import { compareKeys } from './byte-order.js';

/**
 * A sorted array of distinct keys: the ordered index behind the KV tree and the tombstones.
 * Lookups by key go through a Map beside it; this array answers "which keys start with p, in
 * order" with a binary search for the start and a walk while the prefix still matches, so a
 * prefix read costs O(log n + matches) however large the store is.
 *
 * Invariants:
 * - `keys` is strictly increasing under compareKeys (so it holds no duplicates).
 * - The keys starting with p are exactly keys[lowerBound(p) .. prefixEnd(p)) (see byte-order.ts).
 *
 * Inserting or removing one key shifts the array tail (a memmove); bulk changes (delete-tree,
 * tombstone reaping) go through insertSorted/removeAll so they cost one pass, not one per key.
 */
export class SortedKeys {
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  at(position: number): string | undefined {
    return this.keys[position];
  }

  /** First position whose key is ≥ key (size when none is). */
  lowerBound(key: string, from = 0): number {
    let low = from;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(this.keys[mid] as string, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** First position at or after `from` past the run of keys starting with prefix. */
  prefixEnd(prefix: string, from = 0): number {
    let low = from;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const key = this.keys[mid] as string;
      // "Before or inside the run" is monotone along the array, so it can be bisected.
      if (key.startsWith(prefix) || compareKeys(key, prefix) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  *withPrefix(prefix: string): Generator<string> {
    for (let i = this.lowerBound(prefix); i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }

  /** Adds a key that is not present yet. */
  insert(key: string): void {
    const last = this.keys[this.keys.length - 1];
    // Appending in order (restore, monotone key generators) must not pay for a search.
    if (last === undefined || compareKeys(last, key) < 0) {
      this.keys.push(key);
      return;
    }
    this.keys.splice(this.lowerBound(key), 0, key);
  }

  /** Merges keys that are sorted, distinct and not present yet; one pass over the array. */
  insertSorted(added: readonly string[]): void {
    if (added.length <= 1) {
      for (const key of added) this.insert(key);
      return;
    }
    const merged: string[] = new Array<string>(this.keys.length + added.length);
    let i = 0;
    let j = 0;
    let out = 0;
    while (i < this.keys.length && j < added.length) {
      const existing = this.keys[i] as string;
      const next = added[j] as string;
      if (compareKeys(existing, next) < 0) {
        merged[out++] = existing;
        i++;
      } else {
        merged[out++] = next;
        j++;
      }
    }
    while (i < this.keys.length) merged[out++] = this.keys[i++] as string;
    while (j < added.length) merged[out++] = added[j++] as string;
    this.keys = merged;
  }

  /** Removes a key that is present. */
  remove(key: string): void {
    this.keys.splice(this.lowerBound(key), 1);
  }

  /** Removes positions [start, end) and returns their keys in order. */
  removeRange(start: number, end: number): string[] {
    return this.keys.splice(start, end - start);
  }

  /** Removes every key in the set (all present). */
  removeAll(removed: ReadonlySet<string>): void {
    // A few single removals are cheaper than rebuilding the array.
    if (removed.size <= 8) {
      for (const key of removed) this.remove(key);
      return;
    }
    this.keys = this.keys.filter((key) => !removed.has(key));
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.keys[Symbol.iterator]();
  }
}
