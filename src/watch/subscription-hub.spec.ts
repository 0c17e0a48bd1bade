import { describe, expect, it } from '@jest/globals';
import type { Command } from '../core/commands.js';
import { StateMachine } from '../core/state-machine.js';
import { del, delTree, entry, set } from '../core/testing.js';
import type { EventsMessage } from '../protocol/watch-protocol.js';
import { type OutgoingMessage, SubscriptionHub, type SubscriptionHubOptions, type WatchConnection, type WatchSink } from './subscription-hub.js';

/** A transport that takes one burst and then waits until the test drains it (or always drains). */
class FakeSink implements WatchSink {
  readonly bursts: OutgoingMessage[][] = [];
  private drainedNow = true;
  connection?: WatchConnection;

  constructor(private readonly autoDrain = true) {}

  isDrained(): boolean {
    return this.drainedNow;
  }

  write(messages: readonly OutgoingMessage[]): void {
    this.bursts.push([...messages]);
    if (!this.autoDrain) this.drainedNow = false;
  }

  drain(): void {
    this.drainedNow = true;
    this.connection?.drained();
  }

  stall(): void {
    this.drainedNow = false;
  }

  get messages(): OutgoingMessage[] {
    return this.bursts.flat();
  }

  eventsOf(id: number): EventsMessage[] {
    return this.messages.flatMap((m) => (m.name === 'events' && m.message.id === id ? [m.message] : []));
  }

  /** "index:type:key" of every event delivered to subscription id. */
  summary(id: number): string[] {
    return this.eventsOf(id).flatMap((m) => m.events.map((e) => `${e.Index}:${e.Type}:${e.Key}`));
  }
}

class Harness {
  readonly machine: StateMachine;
  readonly hub: SubscriptionHub;
  private readonly tasks: (() => void)[] = [];

  constructor(options: Partial<SubscriptionHubOptions> & { historyLimit?: number } = {}) {
    this.machine = new StateMachine({ historyLimit: options.historyLimit ?? 1000, versionsPerKey: 3 });
    this.hub = new SubscriptionHub(() => this.machine, {
      bufferEvents: 1000,
      bufferBytes: 1 << 20,
      catchupBatch: 100,
      ...options,
      schedule: (task) => this.tasks.push(task),
    });
  }

  connect(sink = new FakeSink()): { sink: FakeSink; connection: WatchConnection } {
    const connection = this.hub.connect(sink);
    sink.connection = connection;
    return { sink, connection };
  }

  /** Applies commands as the replica does: apply, then publish the entry's events. */
  apply(...commands: Command[]): void {
    for (const command of commands) this.hub.publish(this.machine.apply(entry(this.machine.index + 1, command)).events);
  }

  /** Runs the flushes scheduled so far (and those they schedule). */
  flush(): void {
    while (this.tasks.length > 0) this.tasks.shift()?.();
  }
}

describe('SubscriptionHub', () => {
  it('routes each change to exact-key and prefix subscriptions by walking the key', () => {
    const h = new Harness();
    const { sink, connection } = h.connect();
    const exact = connection.subscribe({ key: 'a' }).id;
    const underA = connection.subscribe({ key: 'a', recurse: true }).id;
    const everything = connection.subscribe({ key: '', recurse: true }).id;
    const folder = connection.subscribe({ key: 'b/', recurse: true }).id;
    h.apply(set('a', '1'), set('ab', '1'), set('b/c', '1'), set('b', '1'), del('a'));
    h.flush();
    expect(sink.summary(exact)).toEqual(['1:put:a', '5:delete:a']);
    expect(sink.summary(underA)).toEqual(['1:put:a', '2:put:ab', '5:delete:a']);
    expect(sink.summary(everything)).toEqual(['1:put:a', '2:put:ab', '3:put:b/c', '4:put:b', '5:delete:a']);
    expect(sink.summary(folder)).toEqual(['3:put:b/c']);
  });

  it('sends one entry as one message, with prev values only when asked', () => {
    const h = new Harness();
    const { sink, connection } = h.connect();
    h.apply(set('t/a', 'old-a'), set('t/b', 'old-b'), set('u', 'x'));
    const plain = connection.subscribe({ key: 't/', recurse: true }).id;
    const withPrev = connection.subscribe({ key: 't/', recurse: true, prev: true }).id;
    h.apply(delTree('t/'));
    h.flush();
    expect(sink.eventsOf(plain)).toHaveLength(1);
    expect(sink.eventsOf(plain)[0]?.events.map((e) => [e.Key, 'PrevValue' in e])).toEqual([['t/a', false], ['t/b', false]]);
    expect(sink.eventsOf(withPrev)[0]?.events.map((e) => [e.Key, e.PrevValue, e.PrevModifyIndex])).toEqual([
      ['t/a', Buffer.from('old-a').toString('base64'), 1],
      ['t/b', Buffer.from('old-b').toString('base64'), 2],
    ]);
  });

  it('coalesces a burst of entries into one write per connection', () => {
    const h = new Harness();
    const { sink, connection } = h.connect();
    const first = connection.subscribe({ key: 'k' }).id;
    const second = connection.subscribe({ key: '', recurse: true }).id;
    h.apply(set('k', '1'), set('k', '2'), set('other', '1'), set('k', '3'));
    h.flush();
    expect(sink.bursts).toHaveLength(1);
    expect(sink.messages.map((m) => (m.name === 'events' ? `${m.message.id}@${m.message.index}` : m.name))).toEqual([
      `${first}@1`, `${second}@1`, `${first}@2`, `${second}@2`, `${second}@3`, `${first}@4`, `${second}@4`,
    ]);
  });

  it('replays from history in capped batches, paced by the transport, then goes live with no gap or duplicate', () => {
    const h = new Harness({ catchupBatch: 2 });
    h.apply(...Array.from({ length: 7 }, (_, i) => set(`k${i}`, 'v'))); // seqs 1–7
    const { sink, connection } = h.connect(new FakeSink(false));
    const id = connection.subscribe({ key: '', recurse: true, fromIndex: 3 }).id;
    h.flush();
    expect(sink.summary(id)).toEqual(['3:put:k2', '4:put:k3']);
    // Writes while the replay is under way are read by the replay, not sent twice.
    h.apply(set('late1', 'v'));
    sink.drain();
    h.flush();
    expect(sink.bursts).toHaveLength(2);
    h.apply(set('late2', 'v'));
    for (let i = 0; i < 10; i++) {
      sink.drain();
      h.flush();
    }
    h.apply(set('live', 'v'));
    sink.drain();
    h.flush();
    expect(sink.summary(id)).toEqual([
      '3:put:k2', '4:put:k3', '5:put:k4', '6:put:k5', '7:put:k6', '8:put:late1', '9:put:late2', '10:put:live',
    ]);
  });

  it('delivers nothing before a fromIndex in the future', () => {
    const h = new Harness();
    h.apply(set('a', '1'));
    const { sink, connection } = h.connect();
    const id = connection.subscribe({ key: 'a', fromIndex: 3 }).id;
    h.flush();
    h.apply(set('a', '2'), set('a', '3'), set('a', '4'));
    h.flush();
    expect(sink.summary(id)).toEqual(['3:put:a', '4:put:a']);
  });

  it('ends a subscription below the history floor with compacted, and answers fromIndex 0 while nothing was dropped', () => {
    const h = new Harness({ historyLimit: 3 });
    const { sink, connection } = h.connect();
    h.apply(set('a', '1'));
    const fromZero = connection.subscribe({ key: 'a', fromIndex: 0 }).id;
    h.flush();
    expect(sink.summary(fromZero)).toEqual(['1:put:a']);
    h.apply(...Array.from({ length: 5 }, (_, i) => set('a', String(i)))); // floor moves to 3
    const stale = connection.subscribe({ key: 'a', fromIndex: 3 }).id;
    h.flush();
    expect(sink.messages).toContainEqual({ name: 'compacted', message: { id: stale, oldestIndex: 4 } });
    expect(h.hub.subscriptionCount).toBe(1);
  });

  it('ends a subscription whose transport stalls with overflow, bounded, while others keep receiving', () => {
    const h = new Harness({ bufferEvents: 3 });
    const slow = h.connect(new FakeSink(false));
    const fast = h.connect();
    const slowId = slow.connection.subscribe({ key: 'k' }).id;
    const fastId = fast.connection.subscribe({ key: 'k' }).id;
    h.apply(set('k', '1'));
    h.flush(); // the slow transport takes seq 1 and does not drain
    h.apply(set('k', '2'), set('k', '3'), set('k', '4'));
    h.flush();
    expect(h.hub.bufferedBytes).toBeGreaterThan(0);
    h.apply(set('k', '5'));
    h.flush();
    expect(slow.sink.messages.at(-1)).toEqual({ name: 'overflow', message: { id: slowId, index: 1 } });
    expect(h.hub.subscriptionCount).toBe(1);
    expect(h.hub.bufferedBytes).toBe(0);
    expect(fast.sink.summary(fastId)).toEqual(['1:put:k', '2:put:k', '3:put:k', '4:put:k', '5:put:k']);
    // Resuming after the overflow index gives exactly what the slow reader missed.
    // Its replay is paced by the transport as well: one buffer's worth per drain.
    const resumed = slow.connection.subscribe({ key: 'k', fromIndex: 2 }).id;
    slow.sink.drain();
    h.flush();
    expect(slow.sink.summary(resumed)).toEqual(['2:put:k', '3:put:k', '4:put:k']);
    slow.sink.drain();
    h.flush();
    expect(slow.sink.summary(resumed)).toEqual(['2:put:k', '3:put:k', '4:put:k', '5:put:k']);
  });

  it('lets an entry larger than the buffer through to a reader that keeps up', () => {
    const h = new Harness({ bufferEvents: 2 });
    h.apply(set('t/a', '1'), set('t/b', '1'), set('t/c', '1'));
    const { sink, connection } = h.connect();
    const id = connection.subscribe({ key: 't/', recurse: true }).id;
    h.apply(delTree('t/'));
    h.flush();
    expect(sink.summary(id)).toEqual(['4:delete:t/a', '4:delete:t/b', '4:delete:t/c']);
    expect(h.hub.subscriptionCount).toBe(1);
  });

  it('ends every subscription with compacted when the state is replaced', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    const first = a.connection.subscribe({ key: 'x' }).id;
    const second = b.connection.subscribe({ key: '', recurse: true, fromIndex: 1 }).id;
    h.hub.reset();
    h.flush();
    expect(a.sink.messages).toEqual([{ name: 'compacted', message: { id: first, oldestIndex: 1 } }]);
    expect(b.sink.messages).toEqual([{ name: 'compacted', message: { id: second, oldestIndex: 1 } }]);
    expect(h.hub.subscriptionCount).toBe(0);
  });

  it('sends progress only to connections that are caught up and had no events since the last tick', () => {
    const h = new Harness();
    const idle = h.connect();
    const busy = h.connect();
    const none = h.connect();
    idle.connection.subscribe({ key: 'quiet' });
    busy.connection.subscribe({ key: 'loud' });
    h.apply(set('loud', '1'));
    h.flush();
    h.hub.progressTick();
    h.flush();
    expect(idle.sink.messages).toEqual([{ name: 'progress', message: { index: 1 } }]);
    expect(busy.sink.messages.map((m) => m.name)).toEqual(['events']);
    expect(none.sink.messages).toEqual([]);
    h.hub.progressTick();
    h.flush();
    expect(busy.sink.messages.map((m) => m.name)).toEqual(['events', 'progress']);
  });

  it('frees subscriptions on unsubscribe and on close', () => {
    const h = new Harness();
    const { sink, connection } = h.connect();
    const id = connection.subscribe({ key: 'a' }).id;
    connection.subscribe({ key: 'a', recurse: true });
    expect(h.hub.subscriptionCount).toBe(2);
    expect(connection.unsubscribe(id)).toBe(true);
    expect(connection.unsubscribe(id)).toBe(false);
    expect(h.hub.subscriptionCount).toBe(1);
    connection.close();
    expect(h.hub.subscriptionCount).toBe(0);
    h.apply(set('a', '1'));
    h.flush();
    expect(sink.messages).toEqual([]);
  });
});
