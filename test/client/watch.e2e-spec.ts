import { rm } from 'node:fs/promises';
import { type ChangeEvent, CompactedError, Switchboard, type WatchBatch } from '../../src/client/index.js';
import { collect, startNoWebSocketProxy, watchSubscriptions } from '../helpers/sdk.js';
import { type ChildServer, type InProcessServer, spawnServer, startServer, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 };

/** What identifies one event in a comparison with the server's history. */
const brief = (e: ChangeEvent): string => `${e.index} ${e.type} ${e.key} ${e.value.toString()}`;

/** Writes `<prefix><n % 5>` until stopped; a write refused because the server is down is retried. */
function startWriter(client: Switchboard, prefix: string): { written: () => number; stop(): Promise<void> } {
  let running = true;
  let written = 0;
  const loop = (async () => {
    while (running) {
      try {
        await client.kv.put(`${prefix}${written % 5}`, `v${written}`);
        written++;
      } catch {
        // The server is being killed or restarted: try again.
      }
    }
  })();
  return {
    written: () => written,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('Switchboard.watch', () => {
  it('resumes across a kill -9 and restart of the server with no event missed or repeated', async () => {
    const dataDir = await tempDir();
    let server: ChildServer = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'sdk-resume' });
    const port = new URL(server.url).port;
    const client = new Switchboard({ address: server.url, backoff: FAST_BACKOFF, transport: 'websocket' });
    try {
      const start = await client.kv.listWithIndex('resume/');
      const watch = collect(client.watch('resume/', { recurse: true, fromIndex: start.index + 1 }));
      const writer = startWriter(client, 'resume/');
      await watch.until((events) => events.length >= 20, 'twenty events before the kill');
      server.process.kill('SIGKILL');
      await server.exited;
      server = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'sdk-resume', PORT: port });
      const afterRestart = writer.written();
      await waitFor(() => writer.written() >= afterRestart + 20, 10_000, 'twenty writes after the restart');
      await writer.stop();
      const history = (await client.history('resume/', { recurse: true, index: start.index })).events;
      await watch.until((events) => events.at(-1)?.index === history.at(-1)?.index, 'the last write');
      expect(watch.items.map(brief)).toEqual(history.map(brief));
    } finally {
      await client.close();
      server.process.kill('SIGKILL');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  describe('on an in-process server', () => {
    let server: InProcessServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(async () => {
      await server.close();
    });

    it('delivers a txn as one batch, and break ends the subscription on the server', async () => {
      await using client = new Switchboard({ address: server.url });
      const batches = client.watchBatches('batch/', { recurse: true });
      const iterator = batches[Symbol.asyncIterator]();
      const first = iterator.next();
      await waitFor(async () => (await watchSubscriptions(server.url)) === 1, 5000, 'one subscription');
      await client.kv.txn([
        { verb: 'set', key: 'batch/a', value: 'a' },
        { verb: 'set', key: 'batch/b', value: 'b' },
      ]);
      const batch = (await first).value as WatchBatch;
      expect(batch.events.map((e) => e.key)).toEqual(['batch/a', 'batch/b']);
      await iterator.return!();
      expect(await watchSubscriptions(server.url)).toBe(0);
    });

    it('break out of for await unsubscribes', async () => {
      await using client = new Switchboard({ address: server.url });
      const written = (async () => {
        await waitFor(async () => (await watchSubscriptions(server.url)) === 1, 5000, 'one subscription');
        await client.kv.put('brk/k', 'v');
      })();
      for await (const event of client.watch('brk/k')) {
        expect(event.value.toString()).toBe('v');
        break;
      }
      await written;
      expect(await watchSubscriptions(server.url)).toBe(0);
    });

    // Events here are ~1.5 KB without a previous value and ~2.9 KB with one (watchEventBytes).
    it.each([
      ['events', { events: 10 }, [10, 10]],
      ['estimated bytes', { bytes: 20_000 }, [6, 13]],
    ])('holds a bounded number of %s for a consumer that stops taking them, then resumes with none missed', async (_, watchBuffer, [fewest, most]) => {
      const warnings: string[] = [];
      await using client = new Switchboard({ address: server.url, transport: 'websocket', watchBuffer, logger: { warn: (m) => warnings.push(m) } });
      const prefix = `slow-${Object.keys(watchBuffer)[0]}/`;
      const value = (n: number): string => `v${n}`.padEnd(1000, '.');
      const { index } = await client.kv.listWithIndex(prefix);
      const iterator = client.watchBatches(prefix, { recurse: true, fromIndex: index + 1 })[Symbol.asyncIterator]();
      const first = iterator.next();
      await client.kv.put(`${prefix}0`, value(0));
      const received = [(await first).value as WatchBatch];
      // The consumer takes nothing more while a hundred writes arrive.
      for (let n = 1; n <= 100; n++) await client.kv.put(`${prefix}${n % 7}`, value(n));
      await waitFor(() => warnings.length > 0, 5000, 'the warning that the watch drops what arrives');
      expect(warnings).toEqual([expect.stringMatching(/the consumer is \d+ events behind; dropping what arrives/)]);
      const held = Number(/(\d+) events behind/.exec(warnings[0] as string)?.[1]);
      expect(held).toBeGreaterThanOrEqual(fewest as number);
      expect(held).toBeLessThanOrEqual(most as number);
      while (received.length < 101) received.push((await iterator.next()).value as WatchBatch);
      const history = (await client.history(prefix, { recurse: true, index })).events;
      expect(received.flatMap((batch) => batch.events).map(brief)).toEqual(history.map(brief));
      await iterator.return!();
      expect(await watchSubscriptions(server.url)).toBe(0);
    });

    it('throws CompactedError when fromIndex is older than the retained history', async () => {
      const small = await startServer({ HISTORY_SIZE: '2' });
      await using client = new Switchboard({ address: small.url });
      try {
        for (const n of [1, 2, 3, 4]) await client.kv.put(`gone/${n}`, 'x');
        const ended = await collect(client.watch('gone/', { recurse: true, fromIndex: 1 })).done;
        expect(ended).toBeInstanceOf(CompactedError);
      } finally {
        await small.close();
      }
    });

    it('falls back to /v1/history long-polls when the WebSocket cannot be established', async () => {
      const proxy = await startNoWebSocketProxy(server.url);
      const warnings: string[] = [];
      const client = new Switchboard({ address: proxy.url, backoff: FAST_BACKOFF, fallbackAfter: 2, longPollWaitMs: 2000, logger: { warn: (m) => warnings.push(m) } });
      try {
        const { index } = await client.kv.listWithIndex('lp/');
        const watch = collect(client.watch('lp/', { recurse: true, fromIndex: index + 1 }));
        for (const n of [1, 2, 3]) await client.kv.put(`lp/${n}`, `v${n}`);
        await client.kv.txn([
          { verb: 'set', key: 'lp/1', value: 'txn' },
          { verb: 'delete', key: 'lp/2' },
        ]);
        await watch.until((events) => events.length === 5, 'five events');
        const history = (await client.history('lp/', { recurse: true, index })).events;
        expect(watch.items.map(brief)).toEqual(history.map(brief));
        expect(warnings).toEqual([expect.stringContaining('/v1/history long-polls')]);
        expect(await watchSubscriptions(server.url)).toBe(0);
      } finally {
        await client.close();
        await proxy.close();
      }
    });
  });

  it('long-poll: when the server index goes backwards (state replaced), starts over and follows the new state', async () => {
    const firstDir = await tempDir();
    const secondDir = await tempDir();
    let server: ChildServer = await spawnServer({ DATA_DIR: firstDir, NODE_NAME: 'sdk-reset' });
    const port = new URL(server.url).port;
    const client = new Switchboard({ address: server.url, transport: 'long-poll', backoff: FAST_BACKOFF, longPollWaitMs: 500 });
    try {
      for (let n = 0; n < 10; n++) await client.kv.put(`pad/${n}`, 'x');
      const { index } = await client.kv.listWithIndex('reset/');
      const watch = collect(client.watch('reset/', { recurse: true, fromIndex: index + 1 }));
      await client.kv.put('reset/old', 'old world');
      await watch.until((events) => events.length === 1, 'the old world event');
      const oldIndex = watch.items[0]!.index;
      server.process.kill('SIGKILL');
      await server.exited;
      server = await spawnServer({ DATA_DIR: secondDir, NODE_NAME: 'sdk-reset', PORT: port });
      await client.kv.put('reset/new', 'new world');
      await watch.until((events) => events.length === 2, 'the new world event');
      expect(watch.items[1]).toMatchObject({ key: 'reset/new', type: 'put' });
      expect(watch.items[1]!.index).toBeLessThan(oldIndex);
    } finally {
      await client.close();
      server.process.kill('SIGKILL');
      await server.exited;
      await rm(firstDir, { recursive: true, force: true });
      await rm(secondDir, { recursive: true, force: true });
    }
  }, 30_000);
});
