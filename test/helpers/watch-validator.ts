import type { EventsMessage, WatchEvent } from '../../src/protocol/watch-protocol.js';

/** One event of /v1/history. */
export interface HistoryEvent {
  Type: 'put' | 'delete';
  Key: string;
  Value: string | null;
  Flags: number;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Session: string | null;
  PrevValue: string | null;
  PrevModifyIndex: number;
}

/** Every retained event under key (a prefix when recurse) with index > afterIndex. */
export async function historyAfter(baseUrl: string, key: string, recurse: boolean, afterIndex: number): Promise<HistoryEvent[]> {
  const response = await fetch(`${baseUrl}/v1/history/${key}?index=${afterIndex}${recurse ? '&recurse' : ''}`);
  if (!response.ok) throw new Error(`history: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { Events: HistoryEvent[] }).Events;
}

function sameEvent(watched: WatchEvent, recorded: HistoryEvent): boolean {
  return (
    watched.Index === recorded.ModifyIndex &&
    watched.Type === recorded.Type &&
    watched.Key === recorded.Key &&
    watched.Value === recorded.Value &&
    // fetch's JSON.parse rounds a uint64 above 2^53; the stream's decimal string is exact.
    Number(watched.Flags) === recorded.Flags &&
    watched.CreateIndex === recorded.CreateIndex &&
    watched.ModifyIndex === recorded.ModifyIndex &&
    watched.LockIndex === recorded.LockIndex &&
    watched.Session === recorded.Session &&
    (watched.PrevValue === undefined || watched.PrevValue === recorded.PrevValue) &&
    (watched.PrevModifyIndex === undefined || watched.PrevModifyIndex === recorded.PrevModifyIndex)
  );
}

/**
 * Checks what a watcher recorded against the node's history, guarantee by guarantee (etcd's
 * tests/robustness/validate/watch.go): `segments` are the successive subscriptions of one
 * watcher, the first from `fromIndex`, each later one resumed from the previous one's last
 * index + 1; `history` is the history of the same key or prefix after fromIndex - 1. Returns one
 * line per violation, empty when the stream is correct:
 * - ordered: indexes strictly increase across messages, each event carries its message's index;
 * - unique: no index is delivered twice;
 * - atomic: a message holds exactly the history's events of its index, in the same order;
 * - reliable: every history index from fromIndex up to the last delivered one was delivered;
 * - resumable: each resumed segment starts at the first history index after the last one seen.
 */
export function watchViolations(segments: readonly (readonly EventsMessage[])[], history: readonly HistoryEvent[], fromIndex: number): string[] {
  const violations: string[] = [];
  const byIndex = new Map<number, HistoryEvent[]>();
  for (const event of history) {
    if (event.ModifyIndex < fromIndex) continue;
    const list = byIndex.get(event.ModifyIndex);
    if (list) list.push(event);
    else byIndex.set(event.ModifyIndex, [event]);
  }
  const historyIndexes = [...byIndex.keys()];
  const seen = new Set<number>();
  let last = fromIndex - 1;
  for (const [segmentNumber, segment] of segments.entries()) {
    const first = segment[0];
    if (segmentNumber > 0 && first !== undefined) {
      const expected = historyIndexes.find((index) => index > last);
      if (first.index !== expected) violations.push(`resumable: segment ${segmentNumber} starts at ${first.index}, expected ${expected}`);
    }
    for (const message of segment) {
      if (seen.has(message.index)) violations.push(`unique: index ${message.index} delivered again`);
      else if (message.index <= last) violations.push(`ordered: index ${message.index} after ${last}`);
      if (message.events.some((event) => event.Index !== message.index)) violations.push(`ordered: message ${message.index} holds events of other indexes`);
      const recorded = byIndex.get(message.index) ?? [];
      const whole = recorded.length === message.events.length && message.events.every((event, i) => sameEvent(event, recorded[i]!));
      if (!whole) violations.push(`atomic: message ${message.index} has ${message.events.length} events, history ${recorded.length} (or they differ)`);
      seen.add(message.index);
      last = Math.max(last, message.index);
    }
  }
  const missing = historyIndexes.filter((index) => index <= last && !seen.has(index));
  if (missing.length > 0) violations.push(`reliable: indexes ${missing.join(', ')} never delivered`);
  return violations;
}
