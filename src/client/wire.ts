import type { WatchEvent } from '../protocol/watch-protocol.js';

/**
 * Consul's JSON shapes decoded into the SDK's types. `Flags` is a uint64 and can exceed 2^53,
 * which JSON.parse would round, so its number token is turned into a string before parsing.
 * Only the object key `"Flags"` can match: inside a JSON string every `"` is escaped, so the
 * unescaped `"Flags":` sequence cannot occur there.
 */
export function parseExactJson(text: string): unknown {
  return JSON.parse(text.replace(/"Flags":\s*(\d+)/g, '"Flags":"$1"'));
}

/** One key as stored. */
export interface KvEntry {
  readonly key: string;
  /** The raw bytes; empty when the stored value is empty. */
  readonly value: Buffer;
  readonly flags: bigint;
  readonly createIndex: number;
  readonly modifyIndex: number;
  /** Grows by one with every new lock holder: the fencing token. */
  readonly lockIndex: number;
  /** The session holding the key's lock, if any. */
  readonly session?: string;
}

/** One change to a key: the entry after it (a delete keeps the key, an empty value). */
export interface ChangeEvent extends KvEntry {
  readonly type: 'put' | 'delete';
  /** The log index of the write; every event of one write (a txn, a delete-tree) shares it. */
  readonly index: number;
  /** The value replaced; empty if the key did not exist or was empty. */
  readonly prevValue: Buffer;
  /** ModifyIndex of the replaced entry; 0 if the key did not exist. */
  readonly prevModifyIndex: number;
}

/** One retained version of a key, for rollback. */
export interface KvVersion {
  readonly modifyIndex: number;
  readonly value: Buffer;
  readonly flags: bigint;
}

export interface WireKvEntry {
  readonly Key: string;
  readonly Value: string | null;
  readonly Flags: string | number;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly LockIndex: number;
  readonly Session?: string | null;
}

type WireChange = WireKvEntry & Pick<WatchEvent, 'Type'> & { readonly PrevValue?: string | null; readonly PrevModifyIndex?: number };

const EMPTY = Buffer.alloc(0);

export function bytes(base64: string | null | undefined): Buffer {
  return base64 ? Buffer.from(base64, 'base64') : EMPTY;
}

export function kvEntry(wire: WireKvEntry): KvEntry {
  const entry = {
    key: wire.Key,
    value: bytes(wire.Value),
    flags: BigInt(wire.Flags),
    createIndex: wire.CreateIndex,
    modifyIndex: wire.ModifyIndex,
    lockIndex: wire.LockIndex,
  };
  return wire.Session ? { ...entry, session: wire.Session } : entry;
}

/** A /v1/history event or a socket WatchEvent (the same fields; Index = ModifyIndex). */
export function changeEvent(wire: WireChange): ChangeEvent {
  return {
    ...kvEntry(wire),
    type: wire.Type,
    index: wire.ModifyIndex,
    prevValue: bytes(wire.PrevValue),
    prevModifyIndex: wire.PrevModifyIndex ?? 0,
  };
}

export function kvVersion(wire: { ModifyIndex: number; Value: string | null; Flags: string | number }): KvVersion {
  return { modifyIndex: wire.ModifyIndex, value: bytes(wire.Value), flags: BigInt(wire.Flags) };
}

/** Back to the wire shape (Flags as a decimal string), as the boot cache stores entries. */
export function wireEntry(entry: KvEntry): WireKvEntry {
  return {
    Key: entry.key,
    Value: entry.value.length === 0 ? null : entry.value.toString('base64'),
    Flags: entry.flags.toString(),
    CreateIndex: entry.createIndex,
    ModifyIndex: entry.modifyIndex,
    LockIndex: entry.lockIndex,
    ...(entry.session === undefined ? {} : { Session: entry.session }),
  };
}
