import { SortedKeys } from './sorted-keys.js';

/**
 * Tombstones remember the seq at which a key was deleted, so a prefix's index does not slide
 * backwards when its newest key disappears (Consul `graveyard.go`). They go only at compaction:
 * once the history floor reaches a tombstone's index, no reader can still need it.
 *
 * Invariants:
 * - At most one tombstone per key, and only for a key that is absent from the KV tree (the
 *   state machine removes it when the key is created again).
 * - `order` holds exactly the keys of `indexOf`.
 * - `reapQueue` lists every live tombstone (plus stale records of replaced or removed ones) in
 *   non-decreasing index order; a record is live iff `indexOf.get(key) === index`. Stale records
 *   are skipped, so the queue never needs to be serialized: rebuilding it from the live
 *   tombstones reaps the same keys.
 * - `tableIndex` is the seq of the last entry that recorded a tombstone; it never decreases.
 */
export class Tombstones {
  private readonly indexOf = new Map<string, number>();
  private readonly order = new SortedKeys();
  private reapQueue: { readonly key: string; readonly index: number }[] = [];
  private reapHead = 0;
  private lastChange = 0;

  /** Rebuilds from [key, index] pairs in key order (a snapshot). */
  static restore(records: readonly (readonly [string, number])[], tableIndex: number): Tombstones {
    const tombstones = new Tombstones();
    for (const [key, index] of records) {
      tombstones.indexOf.set(key, index);
      tombstones.order.insert(key);
    }
    tombstones.reapQueue = records
      .map(([key, index]) => ({ key, index }))
      .sort((a, b) => a.index - b.index);
    tombstones.lastChange = tableIndex;
    return tombstones;
  }

  get tableIndex(): number {
    return this.lastChange;
  }

  get(key: string): number | undefined {
    return this.indexOf.get(key);
  }

  /** Records deletions at seq; keys are sorted and distinct. */
  add(keys: readonly string[], seq: number): void {
    if (keys.length === 0) return;
    const fresh = keys.filter((key) => !this.indexOf.has(key));
    for (const key of keys) {
      this.indexOf.set(key, seq);
      this.reapQueue.push({ key, index: seq });
    }
    this.order.insertSorted(fresh);
    this.lastChange = seq;
  }

  /** Drops the tombstone of a key that exists again. */
  remove(key: string): void {
    if (!this.indexOf.delete(key)) return;
    this.order.remove(key);
  }

  /** Largest tombstone index under prefix, 0 when none. */
  maxIndex(prefix: string): number {
    let max = 0;
    for (const key of this.order.withPrefix(prefix)) {
      const index = this.indexOf.get(key) as number;
      if (index > max) max = index;
    }
    return max;
  }

  /** Removes every tombstone with index ≤ floor and returns their keys. */
  reap(floor: number): string[] {
    const reaped = new Set<string>();
    while (this.reapHead < this.reapQueue.length) {
      const record = this.reapQueue[this.reapHead];
      if (record === undefined || record.index > floor) break;
      this.reapHead++;
      if (this.indexOf.get(record.key) !== record.index) continue;
      this.indexOf.delete(record.key);
      reaped.add(record.key);
    }
    // Drop the consumed head once it dominates, keeping pushes and reaps amortized O(1).
    if (this.reapHead > 1024 && this.reapHead * 2 > this.reapQueue.length) {
      this.reapQueue = this.reapQueue.slice(this.reapHead);
      this.reapHead = 0;
    }
    this.order.removeAll(reaped);
    return [...reaped];
  }

  /** [key, index] pairs in key order. */
  records(): [string, number][] {
    return [...this.order].map((key) => [key, this.indexOf.get(key) as number]);
  }
}
