import type { Socket as NetSocket } from 'node:net';
import { rawRequest } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { WatchClient } from '../helpers/watch-client.js';
import { historyAfter, watchViolations } from '../helpers/watch-validator.js';

interface WatchGauges {
  WatchSubscriptions: number;
  WatchBufferedBytes: number;
}

async function gauges(server: InProcessServer): Promise<WatchGauges> {
  return ((await (await fetch(`${server.url}/v1/agent/self`)).json()) as { Switchboard: WatchGauges }).Switchboard;
}

/**
 * Makes a websocket-only socket.io client stop reading, as a stuck consumer does: its TCP socket
 * (socket.io-client → engine.io-client's websocket transport → `ws`'s WebSocket `_socket`) is
 * paused. `ws` resumes that socket itself whenever its frame parser drains, so resume() is
 * disabled until the returned function restores it and lets the client read what piled up.
 */
function stopReading(client: WatchClient): () => void {
  const engine = client.socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } };
  const tcp = engine.transport.ws._socket;
  const resume = tcp.resume.bind(tcp);
  tcp.resume = () => tcp;
  tcp.pause();
  return () => {
    tcp.resume = resume;
    resume();
  };
}

describe('watch under load', () => {
  let server: InProcessServer;
  const clients: WatchClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server?.close();
  });

  it('delivers every one of 100 writes to each of 1,000 subscribers', async () => {
    server = await startServer();
    const sockets = await Promise.all(Array.from({ length: 50 }, () => WatchClient.connect(server.url)));
    clients.push(...sockets);
    // 20 subscriptions per socket, over every prefix of the written keys plus the exact key of
    // half of them, so the prefix walk and the exact map are both exercised.
    const prefixes = ['', 'f', 'fa', 'fan', 'fan/'];
    const subscriptions = await Promise.all(
      sockets.map(async (client) => {
        const ids: number[] = [];
        for (let i = 0; i < 20; i++) ids.push((await client.subscribed({ key: prefixes[i % prefixes.length]!, recurse: true })).id);
        return { client, ids };
      }),
    );
    expect((await gauges(server)).WatchSubscriptions).toBe(1000);
    const start = Number((await rawRequest(server.url, '/v1/kv/fan/?recurse')).headers['x-consul-index']);
    for (let i = 0; i < 100; i++) {
      expect((await rawRequest(server.url, `/v1/kv/fan/${i % 10}`, { method: 'PUT', body: `v${i}` })).text).toBe('true');
    }
    const history = await historyAfter(server.url, 'fan/', true, start);
    expect(history).toHaveLength(100);
    const last = history.at(-1)!.ModifyIndex;
    for (const { client, ids } of subscriptions) {
      await client.until(() => ids.every((id) => client.eventsOf(id).at(-1)?.index === last), 'every write on every subscription');
      for (const id of ids) expect(watchViolations([client.eventsOf(id)], history, start + 1)).toEqual([]);
    }
  }, 60_000);

  it('ends a stalled reader with overflow, bounded, while another keeps receiving; it then resumes exactly', async () => {
    const BUFFER_BYTES = 64 * 1024;
    server = await startServer({ WATCH_BUFFER_BYTES: String(BUFFER_BYTES) });
    const VALUE_BYTES = 192 * 1024; // 256 KiB as base64 per event
    // Each value differs: a write of the value a key already has changes nothing and makes no event.
    const value = (n: number): string => String(n).padEnd(VALUE_BYTES, 'x');
    const stalled = await WatchClient.connect(server.url);
    const healthy = await WatchClient.connect(server.url);
    clients.push(stalled, healthy);
    const first = await stalled.subscribed({ key: 'big' });
    const other = await healthy.subscribed({ key: 'big' });
    const readAgain = stopReading(stalled);
    // Whatever the kernel buffers hold (it depends on the machine), writes keep coming until the
    // server gives up on the stalled reader; its buffered bytes never exceed one entry past the cap.
    let writes = 0;
    while ((await gauges(server)).WatchSubscriptions === 2) {
      if (++writes > 400) throw new Error('the stalled subscription never overflowed');
      expect((await rawRequest(server.url, '/v1/kv/big', { method: 'PUT', body: value(writes) })).text).toBe('true');
      // At most the cap plus one entry per subscription is ever held (two subscriptions here).
      expect((await gauges(server)).WatchBufferedBytes).toBeLessThanOrEqual(2 * (BUFFER_BYTES + 2 * VALUE_BYTES));
    }
    expect((await gauges(server)).WatchBufferedBytes).toBeLessThanOrEqual(BUFFER_BYTES + 2 * VALUE_BYTES);
    for (let i = 1; i <= 3; i++) await rawRequest(server.url, '/v1/kv/big', { method: 'PUT', body: value(writes + i) });
    const history = await historyAfter(server.url, 'big', false, first.index);
    const last = history.at(-1)!.ModifyIndex;
    await healthy.until(() => healthy.eventsOf(other.id).at(-1)?.index === last, 'the healthy reader getting every write');
    expect(watchViolations([healthy.eventsOf(other.id)], history, first.index + 1)).toEqual([]);

    readAgain();
    await stalled.until(() => stalled.overflow.length === 1, 'overflow after what was already sent', 20_000);
    const [{ id, index }] = stalled.overflow as [{ id: number; index: number }];
    expect(id).toBe(first.id);
    expect(stalled.eventsOf(first.id).at(-1)?.index ?? first.index).toBe(index);
    const resumed = await stalled.subscribed({ key: 'big', fromIndex: index + 1 });
    await stalled.until(() => stalled.eventsOf(resumed.id).at(-1)?.index === last, 'the rest after resuming', 20_000);
    expect(watchViolations([stalled.eventsOf(first.id), stalled.eventsOf(resumed.id)], history, first.index + 1)).toEqual([]);
  }, 60_000);
});
