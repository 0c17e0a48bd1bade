import { io } from 'socket.io-client';
import { rawRequest } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';
import { WatchClient, type WatchSocket } from '../helpers/watch-client.js';
import { historyAfter, watchViolations } from '../helpers/watch-validator.js';
import { MAX_SUBSCRIPTIONS_PER_SOCKET } from '../../src/watch/watch.gateway.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The socket.io watch stream against a real in-process server and real socket.io clients. */
describe('watch over socket.io', () => {
  let server: InProcessServer;
  const clients: WatchClient[] = [];
  const connect = async (): Promise<WatchClient> => {
    const client = await WatchClient.connect(server.url);
    clients.push(client);
    return client;
  };
  const put = async (key: string, value: string, query = ''): Promise<void> => {
    const res = await rawRequest(server.url, `/v1/kv/${key}${query}`, { method: 'PUT', body: value });
    expect(res.text).toBe('true');
  };
  const remove = async (path: string): Promise<void> => {
    expect((await rawRequest(server.url, `/v1/kv/${path}`, { method: 'DELETE' })).status).toBe(200);
  };
  const subscriptionGauge = async (): Promise<number> => {
    const self = (await (await fetch(`${server.url}/v1/agent/self`)).json()) as { Switchboard: { WatchSubscriptions: number } };
    return self.Switchboard.WatchSubscriptions;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.close();
  });

  describe('with default settings', () => {
    beforeEach(async () => {
      server = await startServer();
    });

    it('streams put and delete of one key with prev values, and nothing about other keys', async () => {
      const client = await connect();
      const { id, index } = await client.subscribed({ key: 'cfg/db', prev: true });
      await put('cfg/db', 'one');
      await put('cfg/other', 'x');
      await put('cfg/db', 'two', '?flags=18446744073709551615');
      await remove('cfg/db');
      await client.until(() => client.eventsOf(id).length === 3, 'three events');
      const messages = client.eventsOf(id);
      expect(messages[0]!.index).toBeGreaterThan(index);
      expect(messages.map((m) => m.events.map((e) => [e.Type, e.Key, e.Value, e.PrevValue, e.Flags]))).toEqual([
        [['put', 'cfg/db', b64('one'), null, '0']],
        [['put', 'cfg/db', b64('two'), b64('one'), '18446744073709551615']],
        [['delete', 'cfg/db', null, b64('two'), '0']],
      ]);
      expect(messages[1]!.events[0]).toMatchObject({ CreateIndex: messages[0]!.index, ModifyIndex: messages[1]!.index, PrevModifyIndex: messages[0]!.index });
      expect(watchViolations([messages], await historyAfter(server.url, 'cfg/db', false, index), index + 1)).toEqual([]);
    });

    it('streams a prefix, a delete-tree arriving whole in one message', async () => {
      const client = await connect();
      const { id, index } = await client.subscribed({ key: 'app/', recurse: true, prev: true });
      await put('app/a', '1');
      await put('apple', 'outside');
      await put('app/b/c', '2');
      await put('app/d', '3');
      await remove('app/?recurse');
      await client.until(() => client.eventsOf(id).length === 4, 'four messages');
      const messages = client.eventsOf(id);
      expect(messages.map((m) => m.events.map((e) => `${e.Type} ${e.Key}`))).toEqual([
        ['put app/a'], ['put app/b/c'], ['put app/d'], ['delete app/a', 'delete app/b/c', 'delete app/d'],
      ]);
      expect(messages[3]!.events.map((e) => e.PrevValue)).toEqual([b64('1'), b64('2'), b64('3')]);
      expect(watchViolations([messages], await historyAfter(server.url, 'app/', true, index), index + 1)).toEqual([]);
    });

    it('a txn arrives whole: its changes in one message at one index, with prev values', async () => {
      await put('tx/old', 'gone soon');
      const client = await connect();
      const { id, index } = await client.subscribed({ key: 'tx/', recurse: true, prev: true });
      const ops = [
        { KV: { Verb: 'set', Key: 'tx/a', Value: b64('1') } },
        { KV: { Verb: 'set', Key: 'outside', Value: b64('x') } },
        { KV: { Verb: 'delete', Key: 'tx/old' } },
        { KV: { Verb: 'set', Key: 'tx/b', Value: b64('2') } },
      ];
      expect((await rawRequest(server.url, '/v1/txn', { method: 'PUT', body: JSON.stringify(ops) })).status).toBe(200);
      await client.until(() => client.eventsOf(id).length === 1, 'the txn message');
      const [message] = client.eventsOf(id);
      expect(message!.events.map((e) => [e.Type, e.Key, e.Value, e.PrevValue, e.Index])).toEqual([
        ['put', 'tx/a', b64('1'), null, message!.index],
        ['delete', 'tx/old', null, b64('gone soon'), message!.index],
        ['put', 'tx/b', b64('2'), null, message!.index],
      ]);
      expect(watchViolations([client.eventsOf(id)], await historyAfter(server.url, 'tx/', true, index), index + 1)).toEqual([]);
    });

    it('replays from fromIndex (inclusive) and continues live, exact against /v1/history', async () => {
      for (let i = 0; i < 30; i++) await put(`replay/${i % 7}`, `v${i}`);
      const from = (await historyAfter(server.url, 'replay/', true, 0))[5]!.ModifyIndex;
      const client = await connect();
      const { id } = await client.subscribed({ key: 'replay/', recurse: true, prev: true, fromIndex: from });
      // Writes race the replay: none may be lost or repeated at the handoff to live events.
      const writes = Array.from({ length: 20 }, (_, i) => put(`replay/live${i % 3}`, `w${i}`));
      await Promise.all(writes);
      const history = await historyAfter(server.url, 'replay/', true, from - 1);
      await client.until(() => client.eventsOf(id).at(-1)?.index === history.at(-1)!.ModifyIndex, 'the last write');
      expect(client.eventsOf(id)[0]!.index).toBe(from);
      expect(client.eventsOf(id)).toHaveLength(45);
      expect(watchViolations([client.eventsOf(id)], history, from)).toEqual([]);
    });

    it('resumes on a new connection from the last index seen + 1 with exactly the missed events', async () => {
      const first = await connect();
      const { id, index } = await first.subscribed({ key: 'resume/', recurse: true });
      for (let i = 0; i < 5; i++) await put(`resume/${i}`, 'before');
      await first.until(() => first.eventsOf(id).length === 5, 'five events');
      first.close();
      for (let i = 0; i < 5; i++) await put(`resume/${i}`, 'while away');
      const second = await connect();
      const lastSeen = first.eventsOf(id).at(-1)!.index;
      const resumed = await second.subscribed({ key: 'resume/', recurse: true, fromIndex: lastSeen + 1 });
      await put('resume/0', 'after');
      await second.until(() => second.eventsOf(resumed.id).length === 6, 'the missed events and the new one');
      const history = await historyAfter(server.url, 'resume/', true, index);
      expect(watchViolations([first.eventsOf(id), second.eventsOf(resumed.id)], history, index + 1)).toEqual([]);
    });

    it('answers bad requests through the ack and survives garbage frames', async () => {
      const client = await connect();
      expect(await client.subscribe({ key: '' })).toEqual({ ok: false, error: expect.stringMatching(/^Missing key name/) });
      expect(await client.subscribe({ key: 'a/../b' })).toEqual({ ok: false, error: expect.stringMatching(/path segments/) });
      expect(await client.subscribe({ key: 'a', fromIndex: -1 })).toEqual({ ok: false, error: 'fromIndex must be a non-negative integer' });
      const raw = client.socket as unknown as { emit(...args: unknown[]): void; timeout(ms: number): { emitWithAck(...args: unknown[]): Promise<unknown> } };
      expect(await raw.timeout(5000).emitWithAck('subscribe', 'not an object')).toMatchObject({ ok: false });
      expect(await raw.timeout(5000).emitWithAck('subscribe', null)).toMatchObject({ ok: false });
      expect(await raw.timeout(5000).emitWithAck('unsubscribe', { id: 'x' })).toMatchObject({ ok: false });
      expect(await client.unsubscribe(999)).toEqual({ ok: false, error: 'no subscription 999 on this connection' });
      // Without an ack, bad frames are ignored; unknown events too.
      raw.emit('subscribe', { key: 5 });
      raw.emit('subscribe');
      raw.emit('no-such-event', 1, 2, 3);
      raw.emit('unsubscribe', [[[]]]);
      const { id } = await client.subscribed({ key: 'still/works' });
      await put('still/works', 'yes');
      await client.until(() => client.eventsOf(id).length === 1, 'an event after the garbage');
      expect(client.socket.connected).toBe(true);
    });

    it(`refuses subscriptions past ${MAX_SUBSCRIPTIONS_PER_SOCKET} on one socket, and accepts again after an unsubscribe`, async () => {
      const client = await connect();
      const acks = await Promise.all(Array.from({ length: MAX_SUBSCRIPTIONS_PER_SOCKET }, (_, i) => client.subscribe({ key: `cap/${i}` })));
      expect(acks.every((ack) => ack.ok)).toBe(true);
      expect(await client.subscribe({ key: 'cap/one-too-many' })).toEqual({ ok: false, error: expect.stringMatching(/^too many subscriptions on this connection/) });
      const first = acks[0] as { ok: true; id: number };
      expect(await client.unsubscribe(first.id)).toEqual({ ok: true });
      expect(await client.subscribe({ key: 'cap/now-fits' })).toMatchObject({ ok: true });
    });

    it('frees subscriptions on unsubscribe and every one of a socket on disconnect', async () => {
      const client = await connect();
      const other = await connect();
      const { id } = await client.subscribed({ key: 'gauge/a' });
      await client.subscribed({ key: 'gauge/', recurse: true });
      await client.subscribed({ key: '', recurse: true, fromIndex: 1 });
      await other.subscribed({ key: 'gauge/b' });
      expect(await subscriptionGauge()).toBe(4);
      expect(await client.unsubscribe(id)).toEqual({ ok: true });
      expect(await subscriptionGauge()).toBe(3);
      await put('gauge/a', 'after unsubscribe');
      client.close();
      await waitFor(async () => (await subscriptionGauge()) === 1, 5000, 'the disconnected socket releasing its subscriptions');
      expect(client.eventsOf(id)).toEqual([]);
    });

    it('reads the handshake token and accepts every client for now', async () => {
      const client = await WatchClient.connect(server.url, { token: 'anything' });
      clients.push(client);
      expect((await client.subscribed({ key: 'k' })).id).toBe(1);
    });

    it('works over the polling transport too', async () => {
      const socket: WatchSocket = io(`${server.url}/watch`, { transports: ['polling'], reconnection: false, forceNew: true });
      try {
        const ack = await socket.timeout(5000).emitWithAck('subscribe', { key: 'poll/k' });
        if (!ack.ok) throw new Error(ack.error);
        const received = new Promise((resolve) => socket.once('events', resolve));
        await put('poll/k', 'v');
        expect(await received).toMatchObject({ id: ack.id, events: [{ Key: 'poll/k', Value: b64('v') }] });
      } finally {
        socket.disconnect();
      }
    });
  });

  it('ends a subscription below the retained history with compacted', async () => {
    server = await startServer({ HISTORY_SIZE: '3' });
    for (let i = 0; i < 6; i++) await put('small', String(i));
    const client = await connect();
    const { id } = await client.subscribed({ key: 'small', fromIndex: 1 });
    await client.until(() => client.compacted.length === 1, 'compacted');
    // The same oldest index /v1/history names in its 410.
    const gone = await rawRequest(server.url, '/v1/history/small?index=0');
    expect(gone.status).toBe(410);
    const { OldestIndex: oldestIndex } = JSON.parse(gone.text) as { OldestIndex: number };
    expect(client.compacted).toEqual([{ id, oldestIndex }]);
    expect(client.eventsOf(id)).toEqual([]);
    expect(await subscriptionGauge()).toBe(0);
    // From the oldest retained index it works.
    const resumed = await client.subscribed({ key: 'small', fromIndex: oldestIndex });
    await client.until(() => client.eventsOf(resumed.id).length > 0, 'the retained events');
  });

  it('sends progress with the current index to an idle subscription', async () => {
    server = await startServer({ WATCH_PROGRESS_MS: '50' });
    const client = await connect();
    await client.subscribed({ key: 'quiet' });
    await put('elsewhere', 'x');
    const index = Number((await rawRequest(server.url, '/v1/kv/elsewhere')).headers['x-consul-index']);
    await client.until(() => client.progress.some((p) => p.index === index), `progress at ${index}`);
  });
});
