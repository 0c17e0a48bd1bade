import { compareKeys } from './byte-order.js';
import type { KvVersion } from './entry.js';

/**
 * The last few values of each key, for version history and rollback.
 *
 * Invariants:
 * - Each list is newest first, strictly decreasing in modifyIndex, at most `perKey` long, and
 *   never empty (a key with no versions has no list).
 * - Lists are updated in place (a write is one unshift, not a copy of the list); so they are never
 *   handed out: readers get copies.
 * - A key's list outlives the key: it goes only when the key's tombstone is reaped (the state
 *   machine calls drop), so a deleted key can be restored until compaction.
 */
export class VersionStore {
  private readonly byKey = new Map<string, KvVersion[]>();

  constructor(readonly perKey: number) {}

  /** Rebuilds from [key, versions] pairs (a snapshot); trims to the bound if it is now smaller. */
  static restore(perKey: number, lists: readonly (readonly [string, readonly KvVersion[]])[]): VersionStore {
    const store = new VersionStore(perKey);
    for (const [key, versions] of lists) {
      const kept = versions.slice(0, perKey);
      if (kept.length > 0) store.byKey.set(key, kept);
    }
    return store;
  }

  record(key: string, version: KvVersion): void {
    if (this.perKey <= 0) return;
    const list = this.byKey.get(key);
    if (list === undefined) {
      this.byKey.set(key, [version]);
      return;
    }
    list.unshift(version);
    if (list.length > this.perKey) list.length = this.perKey;
  }

  list(key: string): KvVersion[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  find(key: string, modifyIndex: number): KvVersion | undefined {
    return this.byKey.get(key)?.find((version) => version.modifyIndex === modifyIndex);
  }

  drop(key: string): void {
    this.byKey.delete(key);
  }

  /** [key, versions] pairs in key order, copied: later writes do not show in them. */
  lists(): [string, readonly KvVersion[]][] {
    const lists: [string, readonly KvVersion[]][] = [];
    for (const [key, list] of this.byKey) lists.push([key, [...list]]);
    return lists.sort(([a], [b]) => compareKeys(a, b));
  }
}
