import type { ChangeEvent } from './wire.js';

/** What a watch follows: one key, or every key under a prefix. */
export interface WatchTarget {
  readonly key: string;
  readonly recurse: boolean;
}

/** Every event one write made under the watched key, in the write's order. */
export interface WatchBatch {
  readonly index: number;
  readonly events: readonly ChangeEvent[];
}

/**
 * Where a watch stands: the next index it must deliver. It only moves forward while one server
 * state is followed, so a resubscription from `next` neither repeats nor skips an event, on any
 * transport, across any number of reconnects.
 */
export class WatchCursor {
  constructor(
    /** Next index to deliver (inclusive); undefined until the first subscription fixes it. */
    public next: number | undefined,
  ) {}

  /** A subscription without a start position follows changes after `index`. */
  started(index: number): void {
    this.next ??= index + 1;
  }

  /** A batch at `index` is new: it was not delivered before a reconnect. */
  accepts(index: number): boolean {
    return this.next === undefined || index >= this.next;
  }

  delivered(index: number): void {
    this.next = index + 1;
  }

  /** Everything up to `index` was delivered (a progress or overflow message, a long-poll answer). */
  progress(index: number): void {
    if (this.next !== undefined) this.next = Math.max(this.next, index + 1);
  }

  /** The server's state was replaced (its index went backwards): follow the new one from its start. */
  reset(): void {
    this.next = 0;
  }
}
