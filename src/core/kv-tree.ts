import { compareKeys } from './byte-order.js';
import type { KvEntry } from './entry.js';
import { SortedKeys } from './sorted-keys.js';

/**
 * The live KV entries: a Map for exact lookups and a SortedKeys index for prefix range scans.
 *
 * Invariants:
 * - `order` holds exactly the keys of `entries`.
 * - Entries are immutable; a write replaces the object, so events and readers may keep them.
 * - `tableIndex` is the seq of the last entry that put or deleted a key; it never decreases and
 *   is ≥ every ModifyIndex in the tree.
 * - `held` maps each session to exactly the keys whose entry names it, so invalidating a
 *   session touches its own keys, not the whole tree.
 */
export class KvTree {
  private readonly entries = new Map<string, KvEntry>();
  readonly order = new SortedKeys();
  private readonly held = new Map<string, Set<string>>();
  private lastChange = 0;

  /** Rebuilds a tree from entries in key order (a snapshot). */
  static restore(entries: readonly KvEntry[], tableIndex: number): KvTree {
    const tree = new KvTree();
    for (const entry of entries) {
      tree.entries.set(entry.key, entry);
      tree.order.insert(entry.key);
      tree.trackHolder(undefined, entry);
    }
    tree.lastChange = tableIndex;
    return tree;
  }

  get tableIndex(): number {
    return this.lastChange;
  }

  get(key: string): KvEntry | undefined {
    return this.entries.get(key);
  }

  /** Inserts or replaces the entry for entry.key, as changed by the entry with this seq. */
  put(entry: KvEntry, seq: number): void {
    const prev = this.entries.get(entry.key);
    if (prev === undefined) this.order.insert(entry.key);
    this.entries.set(entry.key, entry);
    this.trackHolder(prev, entry);
    this.lastChange = seq;
  }

  /** Removes the key if present and returns what was stored. */
  delete(key: string, seq: number): KvEntry | undefined {
    const prev = this.entries.get(key);
    if (prev === undefined) return undefined;
    this.entries.delete(key);
    this.order.remove(key);
    this.trackHolder(prev, undefined);
    this.lastChange = seq;
    return prev;
  }

  /** Removes every key starting with prefix in one splice; returns them in key order. */
  deletePrefix(prefix: string, seq: number): KvEntry[] {
    const start = this.order.lowerBound(prefix);
    const end = this.order.prefixEnd(prefix, start);
    if (start === end) return [];
    const removed = this.order.removeRange(start, end).map((key) => {
      const entry = this.entries.get(key) as KvEntry;
      this.entries.delete(key);
      this.trackHolder(entry, undefined);
      return entry;
    });
    this.lastChange = seq;
    return removed;
  }

  /** Keys locked by session, byte-wise sorted (so invalidation changes them in a fixed order). */
  heldBy(session: string): string[] {
    const keys = this.held.get(session);
    return keys === undefined ? [] : [...keys].sort(compareKeys);
  }

  *withPrefix(prefix: string): Generator<KvEntry> {
    for (const key of this.order.withPrefix(prefix)) yield this.entries.get(key) as KvEntry;
  }

  /** Largest ModifyIndex under prefix, 0 when nothing matches. */
  maxModifyIndex(prefix: string): number {
    let max = 0;
    for (const entry of this.withPrefix(prefix)) if (entry.modifyIndex > max) max = entry.modifyIndex;
    return max;
  }

  private trackHolder(prev: KvEntry | undefined, next: KvEntry | undefined): void {
    if (prev?.session === next?.session) return;
    if (prev?.session !== undefined) {
      const keys = this.held.get(prev.session);
      keys?.delete(prev.key);
      if (keys?.size === 0) this.held.delete(prev.session);
    }
    if (next?.session !== undefined) {
      let keys = this.held.get(next.session);
      if (keys === undefined) {
        keys = new Set();
        this.held.set(next.session, keys);
      }
      keys.add(next.key);
    }
  }
}
