import type { ChangeEvent } from './entry.js';

/** Thrown by history reads below the retained floor (HTTP 410). */
export class CompactedError extends Error {
  /**
   * The oldest index whose events are still guaranteed complete: historyFloor + 1. A reader
   * that has seen everything up to oldestIndex - 1 (= the floor) can still resume; one that
   * has not must re-list and continue from the listing's index.
   */
  constructor(readonly oldestIndex: number) {
    super(`history before index ${oldestIndex} has been compacted`);
    this.name = 'CompactedError';
  }
}

/**
 * The bounded ring of change events that serves watch-from-index (etcd v2 `event_history.go`).
 *
 * Invariants:
 * - Events are in apply order: index non-decreasing, the events of one entry adjacent and in
 *   the order apply produced them.
 * - At most `limit` events are held. Room is made by dropping whole entries' worth of events,
 *   oldest first; an entry with more than `limit` events is not kept at all (its events still
 *   reach live watchers through the apply outcome). Never dropping part of an entry keeps the
 *   floor exact.
 * - `floor` is the index of the newest dropped event (0 if none): every event with index >
 *   floor is held, so `since(after)` is exact for every after ≥ floor, and below it the ring
 *   answers CompactedError(floor + 1) rather than a silent gap. The floor never decreases.
 */
export class EventRing {
  private readonly slots: (ChangeEvent | undefined)[];
  private start = 0;
  private count = 0;
  private dropped = 0;

  constructor(readonly limit: number) {
    this.slots = new Array<ChangeEvent | undefined>(Math.max(limit, 0));
  }

  /** Rebuilds a ring from a snapshot; trims to the limit if it is now smaller. */
  static restore(limit: number, floor: number, events: readonly ChangeEvent[]): EventRing {
    const ring = new EventRing(limit);
    ring.dropped = floor;
    let from = 0;
    while (from < events.length) {
      const index = (events[from] as ChangeEvent).index;
      let to = from;
      while (to < events.length && (events[to] as ChangeEvent).index === index) to++;
      ring.append(index, events.slice(from, to));
      from = to;
    }
    return ring;
  }

  get floor(): number {
    return this.dropped;
  }

  /** Adds one entry's events (all with index seq); returns whether the floor moved. */
  append(seq: number, events: readonly ChangeEvent[]): boolean {
    if (events.length === 0) return false;
    if (events.length > this.limit) {
      this.clear();
      this.dropped = seq;
      return true;
    }
    const before = this.dropped;
    while (this.count + events.length > this.limit) this.dropOldestEntry();
    for (const event of events) {
      this.slots[(this.start + this.count) % this.slots.length] = event;
      this.count++;
    }
    return this.dropped !== before;
  }

  /**
   * Events with index > after whose key equals key (or starts with it when recurse), in order.
   * A scan of the retained events past `after`, found by binary search. With `limit`, the scan
   * stops once that many events matched and their last entry is complete, so a capped read
   * never splits an entry and the caller resumes after the last event's index.
   */
  since(after: number, key: string, recurse: boolean, limit = Infinity): ChangeEvent[] {
    if (after < this.dropped) throw new CompactedError(this.dropped + 1);
    const matches: ChangeEvent[] = [];
    for (let i = this.firstAfter(after); i < this.count; i++) {
      const event = this.at(i);
      if (matches.length >= limit && event.index !== matches.at(-1)?.index) break;
      if (recurse ? event.key.startsWith(key) : event.key === key) matches.push(event);
    }
    return matches;
  }

  /** Every held event in order. */
  events(): ChangeEvent[] {
    const all: ChangeEvent[] = [];
    for (let i = 0; i < this.count; i++) all.push(this.at(i));
    return all;
  }

  private at(position: number): ChangeEvent {
    return this.slots[(this.start + position) % this.slots.length] as ChangeEvent;
  }

  private firstAfter(after: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).index <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private dropOldestEntry(): void {
    const index = this.at(0).index;
    while (this.count > 0 && this.at(0).index === index) {
      this.slots[this.start] = undefined;
      this.start = (this.start + 1) % this.slots.length;
      this.count--;
    }
    this.dropped = index;
  }

  private clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
