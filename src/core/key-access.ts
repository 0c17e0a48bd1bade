import { compareKeys } from './byte-order.js';
import type { KvEntry } from './entry.js';
import type { KvTree } from './kv-tree.js';
import { deleteKey, deletePrefix, writeEntry, type KvStore, type WriteBatch } from './kv-writes.js';

/**
 * The key operations lock and txn logic is written against, so one implementation of each rule
 * runs both for real (LiveKeys: changes the store and emits events) and as a trial
 * (TrialKeys: changes an overlay and leaves the store alone). A txn is tried first and
 * committed only when every operation succeeded, which is what makes it all-or-nothing.
 */
export interface KeyAccess {
  get(key: string): KvEntry | undefined;
  /** Entries under prefix, byte-wise sorted. */
  withPrefix(prefix: string): KvEntry[];
  put(next: KvEntry): void;
  delete(key: string): void;
  deletePrefix(prefix: string): void;
}

export class LiveKeys implements KeyAccess {
  constructor(
    private readonly store: KvStore,
    private readonly batch: WriteBatch,
  ) {}

  get(key: string): KvEntry | undefined {
    return this.store.tree.get(key);
  }

  withPrefix(prefix: string): KvEntry[] {
    return [...this.store.tree.withPrefix(prefix)];
  }

  put(next: KvEntry): void {
    writeEntry(this.store, this.batch, next);
  }

  delete(key: string): void {
    deleteKey(this.store, this.batch, key);
  }

  deletePrefix(prefix: string): void {
    deletePrefix(this.store, this.batch, prefix);
  }
}

/** The tree as seen through the changes made so far; `null` marks a key deleted in the overlay. */
export class TrialKeys implements KeyAccess {
  private readonly changed = new Map<string, KvEntry | null>();

  constructor(private readonly tree: KvTree) {}

  get(key: string): KvEntry | undefined {
    const changed = this.changed.get(key);
    return changed === undefined ? this.tree.get(key) : (changed ?? undefined);
  }

  withPrefix(prefix: string): KvEntry[] {
    const merged = new Map<string, KvEntry>();
    for (const entry of this.tree.withPrefix(prefix)) merged.set(entry.key, entry);
    for (const [key, entry] of this.changed) {
      if (!key.startsWith(prefix)) continue;
      if (entry === null) merged.delete(key);
      else merged.set(key, entry);
    }
    return [...merged.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  put(next: KvEntry): void {
    this.changed.set(next.key, next);
  }

  delete(key: string): void {
    this.changed.set(key, null);
  }

  deletePrefix(prefix: string): void {
    for (const entry of this.withPrefix(prefix)) this.changed.set(entry.key, null);
  }
}
