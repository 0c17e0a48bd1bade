import type { ChangeEvent, KvEntry } from './entry.js';
import type { KvTree } from './kv-tree.js';
import type { Tombstones } from './tombstones.js';
import type { VersionStore } from './versions.js';

/**
 * Per-key writes, shared by every command that changes keys (and, later, by txn ops that change
 * several keys in one entry). Each helper keeps the KV tree, tombstones, versions and the
 * entry's event list consistent with one another:
 *
 * - every change to a key appends exactly one event, in the order the changes happen;
 * - a put records a version {modifyIndex: seq, value, flags} and drops the key's tombstone;
 * - a delete records a tombstone at seq and keeps the key's versions (for rollback);
 * - a write that would change nothing appends nothing and touches no index.
 *
 * CAS rules (Consul `kvsSetCASTxn`, `KVSDeleteCAS`); the table lives in commands.ts.
 */
export interface KvStore {
  readonly tree: KvTree;
  readonly tombstones: Tombstones;
  readonly versions: VersionStore;
}

/** The log entry being applied: its seq, its time, and the events it has produced so far. */
export interface WriteBatch {
  readonly seq: number;
  readonly time: number;
  readonly events: ChangeEvent[];
}

const EMPTY = Buffer.alloc(0);

/** `kv.set` with cas: 0 means create-only, otherwise the current ModifyIndex must match. */
export function casAllowsSet(current: KvEntry | undefined, cas: number): boolean {
  if (cas === 0) return current === undefined;
  return current !== undefined && current.modifyIndex === cas;
}

/** `kv.delete` with cas: a missing key is success; cas=0 never matches a stored ModifyIndex (≥ 1). */
export function casAllowsDelete(current: KvEntry | undefined, cas: number): boolean {
  return current === undefined || current.modifyIndex === cas;
}

/** Builds an entry with a fixed field order and no `session` field when unlocked. */
export function kvEntry(
  key: string,
  value: Buffer,
  flags: bigint,
  createIndex: number,
  modifyIndex: number,
  lockIndex: number,
  session?: string,
): KvEntry {
  const entry = { key, value, flags, createIndex, modifyIndex, lockIndex };
  return session === undefined ? entry : { ...entry, session };
}

/**
 * Stores `next` as the key's new entry, whatever changed in it. Lock operations will build
 * `next` with their own session and LockIndex and call this too.
 */
export function writeEntry(store: KvStore, batch: WriteBatch, next: KvEntry): void {
  const prev = store.tree.get(next.key);
  store.tree.put(next, batch.seq);
  if (prev === undefined) store.tombstones.remove(next.key);
  store.versions.record(next.key, { modifyIndex: batch.seq, value: next.value, flags: next.flags });
  const event: ChangeEvent =
    prev === undefined
      ? { index: batch.seq, type: 'put', key: next.key, entry: next }
      : { index: batch.seq, type: 'put', key: next.key, entry: next, prev };
  batch.events.push(event);
}

/**
 * Plain set: creates the key or replaces value and flags. CreateIndex, Session and LockIndex
 * are kept; keeping LockIndex deviates from Consul (which zeroes it) so that LockIndex stays a
 * monotonic fencing token. Identical value and flags change nothing (Consul's no-op rule).
 */
export function setValue(store: KvStore, batch: WriteBatch, key: string, value: Buffer, flags: bigint): void {
  const next = entryAfterSet(store.tree.get(key), key, value, flags, batch.seq);
  if (next !== undefined) writeEntry(store, batch, next);
}

/** What a plain set at seq makes of prev; undefined when it would change nothing. */
export function entryAfterSet(prev: KvEntry | undefined, key: string, value: Buffer, flags: bigint, seq: number): KvEntry | undefined {
  if (prev === undefined) return kvEntry(key, value, flags, seq, seq, 0);
  if (prev.flags === flags && prev.value.equals(value)) return undefined;
  return kvEntry(key, value, flags, prev.createIndex, seq, prev.lockIndex, prev.session);
}

/** Deletes the key if present. */
export function deleteKey(store: KvStore, batch: WriteBatch, key: string): void {
  const prev = store.tree.delete(key, batch.seq);
  if (prev !== undefined) recordDeletions(store, batch, [prev]);
}

/** Deletes every key starting with prefix ("" = all), one event and tombstone per key. */
export function deletePrefix(store: KvStore, batch: WriteBatch, prefix: string): void {
  recordDeletions(store, batch, store.tree.deletePrefix(prefix, batch.seq));
}

/** Tombstones and delete events for entries already removed from the tree, in key order. */
function recordDeletions(store: KvStore, batch: WriteBatch, removed: readonly KvEntry[]): void {
  if (removed.length === 0) return;
  store.tombstones.add(
    removed.map((prev) => prev.key),
    batch.seq,
  );
  for (const prev of removed) {
    const entry = kvEntry(prev.key, EMPTY, 0n, prev.createIndex, batch.seq, prev.lockIndex);
    batch.events.push({ index: batch.seq, type: 'delete', key: prev.key, entry, prev });
  }
}
