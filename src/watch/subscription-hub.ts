import type { ChangeEvent } from '../core/entry.js';
import { CompactedError } from '../core/state-machine.js';
import {
  type CompactedMessage,
  type EventsMessage,
  type OverflowMessage,
  type ProgressMessage,
  type SubscribeRequest,
  type WatchEvent,
  watchEventBytes,
} from '../protocol/watch-protocol.js';
import { watchEvent } from './watch-event.js';

/** The part of the replicated state the hub reads: the applied index and the history ring. */
export interface HistoryView {
  readonly index: number;
  readonly historyFloor: number;
  history(afterIndex: number, key: string, recurse: boolean, limit?: number): readonly ChangeEvent[];
}

export type OutgoingMessage =
  | { readonly name: 'events'; readonly message: EventsMessage }
  | { readonly name: 'progress'; readonly message: ProgressMessage }
  | { readonly name: 'compacted'; readonly message: CompactedMessage }
  | { readonly name: 'overflow'; readonly message: OverflowMessage };

/** One client connection as the hub sees it; the gateway adapts a socket.io socket to it. */
export interface WatchSink {
  /** Whether the transport has written out everything handed to it (see the gateway). */
  isDrained(): boolean;
  /** Hands one burst of messages to the transport, in order. */
  write(messages: readonly OutgoingMessage[]): void;
}

export interface SubscriptionHubOptions {
  /** Undelivered events a subscription may hold before it is ended with `overflow`. */
  readonly bufferEvents: number;
  /** Undelivered bytes (estimated JSON size) a subscription may hold. */
  readonly bufferBytes: number;
  /** Events read from history per catch-up step (whole entries, so a step may read more). */
  readonly catchupBatch: number;
  /** Runs a connection's flush after the current burst of applies (default setImmediate). */
  readonly schedule?: (task: () => void) => void;
}

interface QueuedEvents {
  readonly message: EventsMessage;
  readonly bytes: number;
}

/**
 * One subscription. Invariants: every matching event with index < `cursor` is either in `queue`
 * or was handed to the transport, and exactly those with index <= `sentThrough` were handed;
 * `queue` is in index order. While `catchingUp`, events come from history only (live ones are
 * skipped, the replay reads them later), and a step runs only when `queue` is empty; once a
 * replay read comes back short of the batch size the cursor is past the applied index and the
 * subscription turns live in the same synchronous step, so no apply falls between the two.
 */
interface Subscription {
  readonly id: number;
  readonly connection: Connection;
  readonly key: string;
  readonly recurse: boolean;
  readonly prev: boolean;
  cursor: number;
  sentThrough: number;
  catchingUp: boolean;
  queue: QueuedEvents[];
  queuedEvents: number;
  queuedBytes: number;
}

class Connection {
  readonly subscriptions = new Map<number, Subscription>();
  /** compacted / overflow / progress: written at the next flush, even to a socket not drained. */
  control: OutgoingMessage[] = [];
  nextId = 1;
  flushScheduled = false;
  wroteEventsSinceProgress = false;
  closed = false;

  constructor(readonly sink: WatchSink) {}
}

/** What the gateway holds per socket. */
export interface WatchConnection {
  /** Live subscriptions on this connection. */
  readonly subscriptionCount: number;
  subscribe(request: SubscribeRequest): { id: number; index: number };
  /** False when no subscription with that id is live on this connection. */
  unsubscribe(id: number): boolean;
  /** The transport drained: queued events may go out now. */
  drained(): void;
  /** The socket is gone: every subscription of it ends. */
  close(): void;
}

/**
 * Streams applied changes to subscriptions (etcd's watchable store, in miniature). A changed key
 * is matched by walking its prefixes in a prefix map plus one exact-key lookup: O(key length) per
 * event however many subscriptions exist. Each subscription has a bounded queue of undelivered
 * events; the queue drains only when the client's transport has written the previous burst, so
 * a slow reader's queue grows, and past the buffer limits the subscription ends with `overflow`
 * instead of holding memory or ever blocking apply. Everything queued on one connection goes out
 * in one burst per flush (one flush per connection per turn of the event loop, and none while
 * the transport is still busy), so many entries applied together cost one hand-over per socket
 * rather than one per entry; engine.io then writes the burst in at most two transport sends.
 */
export class SubscriptionHub {
  private readonly exact = new Map<string, Set<Subscription>>();
  private readonly prefixes = new Map<string, Set<Subscription>>();
  private readonly connections = new Set<Connection>();
  private readonly schedule: (task: () => void) => void;
  private live = 0;
  private buffered = 0;

  constructor(
    private readonly state: () => HistoryView,
    private readonly options: SubscriptionHubOptions,
  ) {
    this.schedule = options.schedule ?? ((task) => setImmediate(task));
  }

  /** Subscriptions currently open: a gauge for /v1/agent/self and leak tests. */
  get subscriptionCount(): number {
    return this.live;
  }

  /** Estimated bytes queued for all subscriptions and not yet handed to a transport. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  connect(sink: WatchSink): WatchConnection {
    const connection = new Connection(sink);
    this.connections.add(connection);
    return {
      get subscriptionCount() {
        return connection.subscriptions.size;
      },
      subscribe: (request) => this.subscribe(connection, request),
      unsubscribe: (id) => this.unsubscribe(connection, id),
      drained: () => this.scheduleFlush(connection),
      close: () => {
        connection.closed = true;
        this.connections.delete(connection);
        for (const subscription of connection.subscriptions.values()) this.remove(subscription);
      },
    };
  }

  /** One applied log entry's events (all with the entry's index). */
  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0 || this.live === 0) return;
    const matched = new Map<Subscription, ChangeEvent[]>();
    for (const event of events) {
      const add = (subscription: Subscription): void => {
        if (subscription.catchingUp || event.index < subscription.cursor) return;
        const list = matched.get(subscription);
        if (list) list.push(event);
        else matched.set(subscription, [event]);
      };
      this.exact.get(event.key)?.forEach(add);
      if (this.prefixes.size === 0) continue;
      for (let end = 0; end <= event.key.length; end++) this.prefixes.get(event.key.slice(0, end))?.forEach(add);
    }
    const wire = new WireCache();
    for (const [subscription, list] of matched) {
      this.enqueue(subscription, list.map((event) => wire.of(event, subscription.prev)), { overflowOnFull: true });
    }
  }

  /**
   * The state was replaced and indexes may have gone backwards: no subscription can continue
   * from its position in the old history. Each ends with `compacted`; clients re-list.
   */
  reset(): void {
    const oldestIndex = this.state().historyFloor + 1;
    for (const connection of this.connections) {
      for (const subscription of connection.subscriptions.values()) {
        this.end(subscription, { name: 'compacted', message: { id: subscription.id, oldestIndex } });
      }
    }
  }

  /**
   * Sends `progress` on every connection whose subscriptions are all live, fully delivered and
   * got no events since the last tick; the gateway calls this every WATCH_PROGRESS_MS.
   */
  progressTick(): void {
    const index = this.state().index;
    for (const connection of this.connections) {
      const idle = !connection.wroteEventsSinceProgress;
      connection.wroteEventsSinceProgress = false;
      if (!idle || connection.subscriptions.size === 0 || !connection.sink.isDrained()) continue;
      const settled = [...connection.subscriptions.values()].every((s) => !s.catchingUp && s.queue.length === 0);
      if (!settled) continue;
      connection.control.push({ name: 'progress', message: { index } });
      this.scheduleFlush(connection);
    }
  }

  private subscribe(connection: Connection, request: SubscribeRequest): { id: number; index: number } {
    const index = this.state().index;
    const cursor = request.fromIndex === undefined ? index + 1 : Math.max(1, request.fromIndex);
    const subscription: Subscription = {
      id: connection.nextId++,
      connection,
      key: request.key,
      recurse: request.recurse === true,
      prev: request.prev === true,
      cursor,
      sentThrough: cursor - 1,
      catchingUp: request.fromIndex !== undefined,
      queue: [],
      queuedEvents: 0,
      queuedBytes: 0,
    };
    connection.subscriptions.set(subscription.id, subscription);
    const map = subscription.recurse ? this.prefixes : this.exact;
    let set = map.get(subscription.key);
    if (!set) map.set(subscription.key, (set = new Set()));
    set.add(subscription);
    this.live++;
    // The replay starts at the next flush, so the ack reaches the client before any event.
    if (subscription.catchingUp) this.scheduleFlush(connection);
    return { id: subscription.id, index };
  }

  private unsubscribe(connection: Connection, id: number): boolean {
    const subscription = connection.subscriptions.get(id);
    if (subscription === undefined) return false;
    this.remove(subscription);
    return true;
  }

  /**
   * Adds one entry's events for a subscription. A live subscription that already holds
   * something and would pass a buffer limit ends with `overflow`; an empty queue always takes
   * the entry, so an entry larger than the buffer still reaches a client that keeps up.
   */
  private enqueue(subscription: Subscription, events: WatchEvent[], { overflowOnFull }: { overflowOnFull: boolean }): void {
    const index = (events[0] as WatchEvent).Index;
    const bytes = events.reduce((sum, event) => sum + watchEventBytes(event), 0);
    const full =
      subscription.queuedEvents + events.length > this.options.bufferEvents ||
      subscription.queuedBytes + bytes > this.options.bufferBytes;
    if (overflowOnFull && full && subscription.queue.length > 0) {
      this.end(subscription, { name: 'overflow', message: { id: subscription.id, index: subscription.sentThrough } });
      return;
    }
    subscription.queue.push({ message: { id: subscription.id, index, events }, bytes });
    subscription.queuedEvents += events.length;
    subscription.queuedBytes += bytes;
    this.buffered += bytes;
    subscription.cursor = index + 1;
    this.scheduleFlush(subscription.connection);
  }

  /**
   * One replay step, run with an empty queue: reads up to a batch of whole entries from history
   * and queues them until the buffer is full. A short read means history had nothing more, so
   * the subscription is caught up to the applied index and turns live right here.
   */
  private catchUp(subscription: Subscription): void {
    const state = this.state();
    let events: readonly ChangeEvent[];
    try {
      events = state.history(subscription.cursor - 1, subscription.key, subscription.recurse, this.options.catchupBatch);
    } catch (error) {
      if (!(error instanceof CompactedError)) throw error;
      this.end(subscription, { name: 'compacted', message: { id: subscription.id, oldestIndex: error.oldestIndex } });
      return;
    }
    let at = 0;
    while (at < events.length) {
      const index = (events[at] as ChangeEvent).index;
      let next = at;
      while (next < events.length && (events[next] as ChangeEvent).index === index) next++;
      this.enqueue(subscription, events.slice(at, next).map((event) => watchEvent(event, subscription.prev)), { overflowOnFull: false });
      at = next;
      if (subscription.queuedEvents >= this.options.bufferEvents || subscription.queuedBytes >= this.options.bufferBytes) break;
    }
    if (at === events.length && events.length < this.options.catchupBatch) {
      subscription.cursor = Math.max(subscription.cursor, state.index + 1);
      subscription.catchingUp = false;
    }
  }

  private scheduleFlush(connection: Connection): void {
    if (connection.flushScheduled || connection.closed) return;
    connection.flushScheduled = true;
    this.schedule(() => {
      connection.flushScheduled = false;
      if (!connection.closed) this.flush(connection);
    });
  }

  /** Writes the connection's control messages, and its queued events if the transport drained. */
  private flush(connection: Connection): void {
    const burst = connection.control;
    connection.control = [];
    if (connection.sink.isDrained()) {
      const queued: QueuedEvents[] = [];
      for (const subscription of connection.subscriptions.values()) {
        if (subscription.queue.length === 0) continue;
        queued.push(...subscription.queue);
        this.buffered -= subscription.queuedBytes;
        subscription.sentThrough = subscription.cursor - 1;
        subscription.queue = [];
        subscription.queuedEvents = 0;
        subscription.queuedBytes = 0;
      }
      // Stable: each subscription's own messages keep their order.
      queued.sort((a, b) => a.message.index - b.message.index);
      for (const { message } of queued) burst.push({ name: 'events', message });
      if (queued.length > 0) connection.wroteEventsSinceProgress = true;
      for (const subscription of connection.subscriptions.values()) {
        if (subscription.catchingUp && subscription.queue.length === 0) this.catchUp(subscription);
      }
    }
    if (burst.length > 0) connection.sink.write(burst);
  }

  private end(subscription: Subscription, reason: OutgoingMessage): void {
    this.remove(subscription);
    subscription.connection.control.push(reason);
    this.scheduleFlush(subscription.connection);
  }

  private remove(subscription: Subscription): void {
    const { connection } = subscription;
    if (!connection.subscriptions.delete(subscription.id)) return;
    const map = subscription.recurse ? this.prefixes : this.exact;
    const set = map.get(subscription.key);
    set?.delete(subscription);
    if (set?.size === 0) map.delete(subscription.key);
    this.buffered -= subscription.queuedBytes;
    subscription.queue = [];
    subscription.queuedEvents = 0;
    subscription.queuedBytes = 0;
    this.live--;
  }
}

/** Converts each event once per publish, with and without prev, however many subscribers share it. */
class WireCache {
  private readonly plain = new Map<ChangeEvent, WatchEvent>();
  private readonly withPrev = new Map<ChangeEvent, WatchEvent>();

  of(event: ChangeEvent, prev: boolean): WatchEvent {
    const cache = prev ? this.withPrev : this.plain;
    let wire = cache.get(event);
    if (wire === undefined) cache.set(event, (wire = watchEvent(event, prev)));
    return wire;
  }
}
