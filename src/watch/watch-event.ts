import type { ChangeEvent } from '../core/entry.js';
import type { WatchEvent } from '../protocol/watch-protocol.js';

/** Bytes a WatchEvent's fixed fields and punctuation take as JSON, rounded up. */
const FIXED_JSON_BYTES = 200;

function base64OrNull(value: Buffer): string | null {
  return value.length === 0 ? null : value.toString('base64');
}

/** A change as the socket protocol sends it: the /v1/history fields, Flags as a decimal string. */
export function watchEvent(event: ChangeEvent, withPrev: boolean): WatchEvent {
  const { entry, prev } = event;
  const base = {
    Index: event.index,
    Type: event.type,
    Key: event.key,
    Value: base64OrNull(entry.value),
    Flags: entry.flags.toString(),
    CreateIndex: entry.createIndex,
    ModifyIndex: entry.modifyIndex,
    LockIndex: entry.lockIndex,
    Session: entry.session ?? null,
  };
  if (!withPrev) return base;
  return { ...base, PrevValue: prev ? base64OrNull(prev.value) : null, PrevModifyIndex: prev ? prev.modifyIndex : 0 };
}

/**
 * What an event costs in a subscription's buffer: close to its JSON size (the strings dominate)
 * without serializing it, since this runs for every event and subscriber.
 */
export function watchEventBytes(event: WatchEvent): number {
  return FIXED_JSON_BYTES + event.Key.length + (event.Value?.length ?? 0) + (event.PrevValue?.length ?? 0) + (event.Session?.length ?? 0);
}
