import type { ChangeEvent } from '../core/entry.js';
import type { WatchEvent } from '../protocol/watch-protocol.js';

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
