import { decodeJson, JsonEncoder, TextChunks } from './codec.js';
import type { ChangeEvent, KvEntry, KvVersion } from './entry.js';
import { EventRing } from './history.js';
import { KvTree } from './kv-tree.js';
import { kvEntry } from './kv-writes.js';
import { LockDelays, sessionRecord, SessionTable, type Session } from './sessions.js';
import type { Store } from './store.js';
import { Tombstones } from './tombstones.js';
import { VersionStore } from './versions.js';

/**
 * The snapshot format: one JSON document (codec.ts tags Buffers and bigints) holding the whole
 * state at an index.
 *
 * Encoding is split in two so a large state never stalls the server: `captureSnapshot` takes a
 * consistent view in one go (cheap: it copies references; entries, events and version lists are
 * immutable, so later writes cannot change what it holds), and `encodeSnapshotSteps` turns the
 * view into bytes in bounded steps, yielding in between.
 *
 * Invariant: the bytes depend only on the logical state, never on how it was reached. Every
 * collection is written in a canonical order (keys byte-wise, history in apply order) and every
 * record is rebuilt field by field in a fixed order, so a restored machine and one that replayed
 * the same log serialize to identical bytes. Derived structures (sorted indexes, the tombstone
 * reap queue) are not written; restore rebuilds them.
 */

/** 2 added sessions, lock-delays and the last entry's time; a format-1 snapshot has none. */
const FORMAT = 2;
const READABLE_FORMATS = new Set([1, FORMAT]);

export interface SnapshotState {
  readonly index: number;
  readonly time: number;
  readonly store: Store;
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

/**
 * Values are most of a snapshot's bytes, and most are held in several places: a key's entry, its
 * newest version and the history event of the write that set it hold the same bytes, each older
 * version its event's, and an event's `prev` the previous event's. Each value is written to the
 * blob once, where it first appears, and the later places refer to it, found by key and
 * ModifyIndex and checked byte for byte: a Map lookup per key instead of a content lookup per value
 * (hashing every value was ~40% of encoding a snapshot). Values shared no such way are written
 * again, except large ones, which are found by content (the same certificate under many keys).
 * Either way what is written depends only on the logical state, in the order sections are written.
 */
class SnapshotValues {
  private readonly live = new Map<string, PlacedValue>();
  private readonly versions = new Map<string, readonly PlacedValue[]>();
  /** Per key, the last two values written for events: an event's `prev` is often the one before. */
  private readonly recent = new Map<string, PlacedValue[]>();

  constructor(private readonly encoder: JsonEncoder) {}

  /** The live entry's value: its first place. */
  entry(e: KvEntry): string {
    const ref = this.write(e.value);
    this.live.set(e.key, { modifyIndex: e.modifyIndex, value: e.value, ref });
    return ref;
  }

  /** A key's versions: the newest usually shares the live entry's value. */
  versionList(key: string, list: readonly KvVersion[]): readonly PlacedValue[] {
    const live = this.live.get(key);
    const placed = list.map(({ modifyIndex, value }) => ({
      modifyIndex,
      value,
      ref: live !== undefined && matches(live, modifyIndex, value) ? live.ref : this.write(value),
    }));
    this.versions.set(key, placed);
    return placed;
  }

  /** The value of an entry an event holds (after or before the change). */
  held(e: KvEntry): string {
    const found = this.placed(e);
    if (found !== undefined) return found;
    const ref = this.write(e.value);
    const recent = this.recent.get(e.key);
    const placed = { modifyIndex: e.modifyIndex, value: e.value, ref };
    if (recent === undefined) this.recent.set(e.key, [placed]);
    else if (recent.push(placed) > 2) recent.shift();
    return ref;
  }

  private placed(e: KvEntry): string | undefined {
    const among = (places: readonly PlacedValue[] | undefined): string | undefined =>
      places?.find((place) => matches(place, e.modifyIndex, e.value))?.ref;
    const live = this.live.get(e.key);
    const liveRef = live !== undefined && matches(live, e.modifyIndex, e.value) ? live.ref : undefined;
    return among(this.versions.get(e.key)) ?? liveRef ?? among(this.recent.get(e.key));
  }

  private write(value: Buffer): string {
    return value.length >= CONTENT_SHARED_BYTES ? this.encoder.ref(value) : this.encoder.append(value);
  }
}

interface PlacedValue {
  readonly modifyIndex: number;
  readonly value: Buffer;
  readonly ref: string;
}

function matches(placed: PlacedValue, modifyIndex: number, value: Buffer): boolean {
  return placed.modifyIndex === modifyIndex && sameBytes(placed.value, value);
}

/** Values at least this long that are not shared by key are still written once per content. */
const CONTENT_SHARED_BYTES = 1024;

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a === b || a.equals(b);
}

/*
 * The hot record shapes written as text directly, field for field what JSON.stringify gives for
 * canonicalEntry / canonicalVersion / canonicalEvent (which decoding still uses): a snapshot holds
 * hundreds of thousands of them, and building a canonical copy of each was most of its cost.
 */
function entryJson(encoder: JsonEncoder, e: KvEntry, valueRef: string): string {
  const fields =
    `{"key":${JSON.stringify(e.key)},"value":${valueRef},"flags":${encoder.uint64(e.flags)},` +
    `"createIndex":${e.createIndex},"modifyIndex":${e.modifyIndex},"lockIndex":${e.lockIndex}`;
  return e.session === undefined ? `${fields}}` : `${fields},"session":${JSON.stringify(e.session)}}`;
}

function versionListJson(encoder: JsonEncoder, values: SnapshotValues, key: string, versions: readonly KvVersion[]): string {
  const placed = values.versionList(key, versions);
  const list = versions.map((v, i) => `{"modifyIndex":${v.modifyIndex},"value":${placed[i]?.ref as string},"flags":${encoder.uint64(v.flags)}}`);
  return `[${JSON.stringify(key)},[${list.join(',')}]]`;
}

function eventJson(encoder: JsonEncoder, values: SnapshotValues, e: ChangeEvent): string {
  const held = (entry: KvEntry): string => entryJson(encoder, entry, values.held(entry));
  const fields = `{"index":${e.index},"type":${JSON.stringify(e.type)},"key":${JSON.stringify(e.key)},"entry":${held(e.entry)}`;
  return e.prev === undefined ? `${fields}}` : `${fields},"prev":${held(e.prev)}}`;
}

/** A consistent, immutable view of the state, taken at one index. */
export interface SnapshotCapture {
  readonly index: number;
  readonly time: number;
  readonly kvTableIndex: number;
  readonly sessionTableIndex: number;
  readonly tombstoneTableIndex: number;
  readonly historyFloor: number;
  readonly entries: readonly KvEntry[];
  readonly tombstones: readonly (readonly [string, number])[];
  readonly versions: readonly (readonly [string, readonly KvVersion[]])[];
  readonly history: readonly ChangeEvent[];
  readonly sessions: readonly Session[];
  readonly lockDelays: readonly (readonly [string, number])[];
}

/** What a snapshot's bytes decode to: the capture, under a format number (format 1 lacks the optional parts). */
interface SnapshotDocument extends Omit<SnapshotCapture, 'time' | 'sessionTableIndex' | 'sessions' | 'lockDelays'> {
  readonly format: number;
  readonly time?: number;
  readonly sessionTableIndex?: number;
  readonly sessions?: readonly Session[];
  readonly lockDelays?: readonly (readonly [string, number])[];
}

export function captureSnapshot(state: SnapshotState): SnapshotCapture {
  const { store, ring } = state;
  return {
    index: state.index,
    time: state.time,
    kvTableIndex: store.tree.tableIndex,
    sessionTableIndex: store.sessions.tableIndex,
    tombstoneTableIndex: store.tombstones.tableIndex,
    historyFloor: ring.floor,
    entries: [...store.tree.withPrefix('')],
    tombstones: store.tombstones.records(),
    versions: store.versions.lists(),
    history: ring.events(),
    sessions: store.sessions.all(),
    lockDelays: store.lockDelays.records(state.time),
  };
}

/**
 * Records encoded between two yields, a key's version list counting one per version: about a
 * millisecond of work, so requests arriving meanwhile wait about that long. (Counting a list as
 * one record made a step of 2,000 keys with 20 versions each take over 100 ms.)
 */
const RECORDS_PER_STEP = 500;

/**
 * Encodes a capture; yields after every RECORDS_PER_STEP records and while framing, and returns
 * the bytes. Run to completion without pausing, it gives exactly what encodeSnapshot gives.
 */
export function* encodeSnapshotSteps(capture: SnapshotCapture): Generator<void, Buffer, void> {
  const encoder = new JsonEncoder(true);
  const values = new SnapshotValues(encoder);
  const header = {
    format: FORMAT,
    index: capture.index,
    time: capture.time,
    kvTableIndex: capture.kvTableIndex,
    tombstoneTableIndex: capture.tombstoneTableIndex,
    sessionTableIndex: capture.sessionTableIndex,
    historyFloor: capture.historyFloor,
  };
  const text = new TextChunks();
  text.write(encoder.json(header).slice(0, -1));
  const one = (): number => 1;
  const sections: [string, readonly unknown[], (record: never) => string, (record: never) => number][] = [
    ['entries', capture.entries, (entry: KvEntry) => entryJson(encoder, entry, values.entry(entry)), one],
    ['tombstones', capture.tombstones, (record: readonly [string, number]) => encoder.json(record), one],
    [
      'versions',
      capture.versions,
      ([key, versions]: readonly [string, readonly KvVersion[]]) => versionListJson(encoder, values, key, versions),
      ([, versions]: readonly [string, readonly KvVersion[]]) => versions.length,
    ],
    ['history', capture.history, (event: ChangeEvent) => eventJson(encoder, values, event), one],
    ['sessions', capture.sessions, (session: Session) => encoder.json(sessionRecord(session)), one],
    ['lockDelays', capture.lockDelays, (record: readonly [string, number]) => encoder.json(record), one],
  ];
  let work = 0;
  for (const [name, records, write, weight] of sections) {
    text.write(`,"${name}":[`);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as never;
      text.write(i === 0 ? write(record) : `,${write(record)}`);
      work += weight(record);
      if (work >= RECORDS_PER_STEP) {
        work = 0;
        yield;
      }
    }
    text.write(']');
  }
  text.write('}');
  return yield* encoder.finishSteps(text);
}

export function encodeSnapshot(state: SnapshotState): Buffer {
  const steps = encodeSnapshotSteps(captureSnapshot(state));
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export function decodeSnapshot(data: Buffer, limits: SnapshotLimits): SnapshotState {
  const document = decodeJson<SnapshotDocument>(data);
  if (!READABLE_FORMATS.has(document.format)) {
    throw new Error(`unsupported snapshot format ${String(document.format)} (expected ${FORMAT})`);
  }
  const store: Store = {
    tree: KvTree.restore(document.entries.map(canonicalEntry), document.kvTableIndex),
    tombstones: Tombstones.restore(document.tombstones, document.tombstoneTableIndex),
    versions: VersionStore.restore(
      limits.versionsPerKey,
      document.versions.map(([key, versions]) => [key, versions.map(canonicalVersion)]),
    ),
    sessions: SessionTable.restore(document.sessions ?? [], document.sessionTableIndex ?? 0),
    lockDelays: LockDelays.restore(document.lockDelays ?? []),
  };
  const ring = EventRing.restore(limits.historyLimit, document.historyFloor, document.history.map(canonicalEvent));
  return { index: document.index, time: document.time ?? 0, store, ring };
}
