import { decodeJson, encodeJson } from './codec.js';
import type { ChangeEvent, KvEntry, KvVersion } from './entry.js';
import { EventRing } from './history.js';
import { KvTree } from './kv-tree.js';
import { kvEntry, type KvStore } from './kv-writes.js';
import { Tombstones } from './tombstones.js';
import { VersionStore } from './versions.js';

/**
 * The snapshot format: one JSON document (codec.ts tags Buffers and bigints) holding the whole
 * state at an index.
 *
 * Invariant: the bytes depend only on the logical state, never on how it was reached. Every
 * collection is written in a canonical order (keys byte-wise, history in apply order) and every
 * record is rebuilt field by field in a fixed order, so a restored machine and one that replayed
 * the same log serialize to identical bytes. Derived structures (sorted indexes, the tombstone
 * reap queue) are not written; restore rebuilds them.
 */

const FORMAT = 1;

interface SnapshotDocument {
  readonly format: number;
  readonly index: number;
  readonly kvTableIndex: number;
  readonly tombstoneTableIndex: number;
  readonly historyFloor: number;
  readonly entries: readonly KvEntry[];
  readonly tombstones: readonly (readonly [string, number])[];
  readonly versions: readonly (readonly [string, readonly KvVersion[]])[];
  readonly history: readonly ChangeEvent[];
}

export interface SnapshotState {
  readonly index: number;
  readonly store: KvStore;
  readonly ring: EventRing;
}

export interface SnapshotLimits {
  readonly historyLimit: number;
  readonly versionsPerKey: number;
}

function canonicalEntry(e: KvEntry): KvEntry {
  return kvEntry(e.key, e.value, e.flags, e.createIndex, e.modifyIndex, e.lockIndex, e.session);
}

function canonicalVersion(v: KvVersion): KvVersion {
  return { modifyIndex: v.modifyIndex, value: v.value, flags: v.flags };
}

function canonicalEvent(e: ChangeEvent): ChangeEvent {
  const event = { index: e.index, type: e.type, key: e.key, entry: canonicalEntry(e.entry) };
  return e.prev === undefined ? event : { ...event, prev: canonicalEntry(e.prev) };
}

export function encodeSnapshot(state: SnapshotState): Buffer {
  const { store, ring } = state;
  const document: SnapshotDocument = {
    format: FORMAT,
    index: state.index,
    kvTableIndex: store.tree.tableIndex,
    tombstoneTableIndex: store.tombstones.tableIndex,
    historyFloor: ring.floor,
    entries: [...store.tree.withPrefix('')].map(canonicalEntry),
    tombstones: store.tombstones.records(),
    versions: store.versions.lists().map(([key, versions]) => [key, versions.map(canonicalVersion)]),
    history: ring.events().map(canonicalEvent),
  };
  return encodeJson(document);
}

export function decodeSnapshot(data: Buffer, limits: SnapshotLimits): SnapshotState {
  const document = decodeJson<SnapshotDocument>(data);
  if (document.format !== FORMAT) {
    throw new Error(`unsupported snapshot format ${String(document.format)} (expected ${FORMAT})`);
  }
  const store: KvStore = {
    tree: KvTree.restore(document.entries.map(canonicalEntry), document.kvTableIndex),
    tombstones: Tombstones.restore(document.tombstones, document.tombstoneTableIndex),
    versions: VersionStore.restore(
      limits.versionsPerKey,
      document.versions.map(([key, versions]) => [key, versions.map(canonicalVersion)]),
    ),
  };
  const ring = EventRing.restore(limits.historyLimit, document.historyFloor, document.history.map(canonicalEvent));
  return { index: document.index, store, ring };
}
