import type { ChangeEvent } from '../core/entry.js';
import { blockingQuery, blockingTimeoutMs, DEFAULT_WAIT_MS, MAX_WAIT_MS } from './blocking-query.js';
import { WatchHub } from './watch-hub.js';

const change = (key: string, index: number): ChangeEvent => ({
  index,
  type: 'put',
  key,
  entry: { key, value: Buffer.from('v'), flags: 0n, createIndex: index, modifyIndex: index, lockIndex: 0 },
});

describe(blockingTimeoutMs.name, () => {
  it.each([
    [undefined, DEFAULT_WAIT_MS],
    [0, DEFAULT_WAIT_MS],
    [-5, DEFAULT_WAIT_MS],
    [1000, 1000],
    [20 * 60_000, MAX_WAIT_MS],
  ])('wait %s ms is %d ms before jitter', (wait, base) => {
    expect(blockingTimeoutMs(wait, () => 0)).toBe(base);
    // Jitter stays strictly below wait/16, or node-consul's and Patroni's socket timeouts fire first.
    expect(blockingTimeoutMs(wait, () => 0.999999)).toBeLessThan(base + base / 16);
  });
});

describe(blockingQuery.name, () => {
  const never = new AbortController().signal;

  it('answers at once when the index is already past minIndex', async () => {
    const hub = new WatchHub();
    const answer = await blockingQuery(hub, { minIndex: 4, waitMs: 60_000, target: { key: 'a', recurse: false }, run: () => ({ index: 5 }), signal: never });
    expect(answer.index).toBe(5);
    expect(hub.size).toBe(0);
  });

  it('wakes on a change to its key, not on others, and re-runs the query', async () => {
    const hub = new WatchHub();
    let index = 3;
    const pending = blockingQuery(hub, { minIndex: 3, waitMs: 60_000, target: { key: 'a', recurse: false }, run: () => ({ index }), signal: never });
    expect(hub.size).toBe(1);
    hub.notify([change('ab', 4), change('b', 4)]);
    expect(hub.size).toBe(1);
    index = 5;
    hub.notify([change('a', 5)]);
    expect((await pending).index).toBe(5);
    expect(hub.size).toBe(0);
  });

  it('a prefix waiter wakes for any key under the prefix, including the prefix itself', () => {
    const hub = new WatchHub();
    const woken: string[] = [];
    hub.register({ key: 'web/', recurse: true }, () => woken.push('web/'));
    hub.register({ key: '', recurse: true }, () => woken.push('all'));
    hub.register({ key: 'web', recurse: false }, () => woken.push('exact web'));
    hub.notify([change('website', 1)]);
    expect(woken).toEqual(['all']);
    hub.register({ key: '', recurse: true }, () => woken.push('all again'));
    hub.notify([change('web/a/b', 2)]);
    expect(woken).toEqual(['all', 'all again', 'web/']);
    expect(hub.size).toBe(1);
  });

  it('a spurious wake-up keeps waiting; abort releases the waiter', async () => {
    const hub = new WatchHub();
    const controller = new AbortController();
    const pending = blockingQuery(hub, { minIndex: 3, waitMs: 60_000, target: { key: 'a', recurse: false }, run: () => ({ index: 3 }), signal: controller.signal });
    hub.notify([change('a', 4)]);
    expect(hub.size).toBe(0);
    // The query re-runs (still index 3) and registers again within a few microtask turns.
    for (let turn = 0; turn < 20 && hub.size === 0; turn++) await Promise.resolve();
    expect(hub.size).toBe(1);
    controller.abort();
    expect((await pending).index).toBe(3);
    expect(hub.size).toBe(0);
  });

  it('answers at once, unchanged, when the hub closes for shutdown, and no longer waits after', async () => {
    const hub = new WatchHub();
    const query = (): Promise<{ index: number }> =>
      blockingQuery(hub, { minIndex: 3, waitMs: 60_000, target: { key: 'a', recurse: false }, run: () => ({ index: 3 }), signal: never });
    const pending = query();
    expect(hub.size).toBe(1);
    hub.close();
    expect((await pending).index).toBe(3);
    expect((await query()).index).toBe(3);
    expect(hub.size).toBe(0);
  });
});
