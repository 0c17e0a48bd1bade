import Consul from 'consul';
import { Cluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { nextEvent, waitFor } from '../helpers/wait-for.js';

interface KvItem {
  Key: string;
  Value: string | null;
  CreateIndex: number;
  ModifyIndex: number;
}

const MEMBER_TTL_MS = 1500;

/** node-consul sends `consistent` (lib/utils.js) though its typings omit it. */
function consistent(key: string): { key: string } {
  const options = { key, consistent: true };
  return options;
}

/** Three nodes on one private Redis: one store, whichever node a client talks to. */
describe('three nodes sharing one Redis', () => {
  let cluster: Cluster;
  const url = (name: string): string => cluster.url(name);
  const put = async (node: string, key: string, value: string): Promise<void> => {
    const res = await rawRequest(url(node), `/v1/kv/${key}`, { method: 'PUT', body: value });
    expect([res.status, res.text]).toEqual([200, 'true']);
  };
  const get = (node: string, path: string): Promise<{ status: number; index: number; text: string }> =>
    rawRequest(url(node), path).then((res) => ({ status: res.status, index: Number(res.headers['x-consul-index']), text: res.text }));
  const consulAt = (node: string): Consul => new Consul({ host: '127.0.0.1', port: Number(new URL(url(node)).port) });

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b', 'c'], { env: { REDIS_MEMBER_TTL_MS: String(MEMBER_TTL_MS) } });
  }, 60_000);
  afterAll(() => cluster?.dispose());

  it('serves a write through A from B and C with ?consistent at once', async () => {
    for (let i = 0; i < 20; i++) {
      await put('a', `consistent/${i}`, `value ${i}`);
      for (const node of ['b', 'c']) {
        const read = await get(node, `/v1/kv/consistent/${i}?consistent&raw`);
        expect([node, read.status, read.text]).toEqual([node, 200, `value ${i}`]);
      }
    }
  });

  it('serves it from local state without ?consistent once a blocking query or history has seen it', async () => {
    await put('a', 'eventual/key', 'hello');
    const written = JSON.parse((await get('a', '/v1/kv/eventual/key')).text) as KvItem[];
    const index = written[0]!.ModifyIndex;
    // Each returns only once that node has applied the write: no sleep, no polling.
    const blocking = await get('b', `/v1/kv/eventual/key?index=${index - 1}&wait=10s&raw`);
    expect([blocking.status, blocking.text, blocking.index]).toEqual([200, 'hello', index]);
    const history = JSON.parse((await get('c', `/v1/history/eventual/key?index=${index - 1}&wait=10s`)).text) as { Events: { ModifyIndex: number }[] };
    expect(history.Events.map((e) => e.ModifyIndex)).toEqual([index]);
    for (const node of ['b', 'c']) expect((await get(node, '/v1/kv/eventual/key?raw')).text).toBe('hello');
  });

  it('wakes a blocking query on C with a write through A', async () => {
    await put('a', 'watched', 'v1');
    const { index } = await get('c', '/v1/kv/watched?consistent');
    const waitersBefore = (await cluster.status('c')).BlockingWaiters;
    const started = Date.now();
    const blocked = get('c', `/v1/kv/watched?index=${index}&wait=30s&raw`);
    await waitFor(async () => (await cluster.status('c')).BlockingWaiters > waitersBefore, 5000, 'the query waiting on C');
    await put('a', 'watched', 'v2');
    const woken = await blocked;
    expect([woken.status, woken.text]).toEqual([200, 'v2']);
    expect(woken.index).toBeGreaterThan(index);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports the same X-Consul-Index and indexes on every node for the same key or prefix', async () => {
    await put('a', 'same/x', '1');
    await put('b', 'same/y', '2');
    await put('c', 'same/x', '3');
    for (const path of ['/v1/kv/same/x', '/v1/kv/same/y', '/v1/kv/same/?recurse', '/v1/kv/same/?keys', '/v1/kv/same/missing']) {
      const answers = await Promise.all(['a', 'b', 'c'].map((node) => get(node, `${path}${path.includes('?') ? '&' : '?'}consistent`)));
      expect(new Set(answers.map((a) => a.index)).size).toBe(1);
      expect(new Set(answers.map((a) => `${a.status} ${a.text}`)).size).toBe(1);
    }
    const [x] = JSON.parse((await get('b', '/v1/kv/same/x')).text) as KvItem[];
    expect(x!.ModifyIndex).toBeGreaterThan(x!.CreateIndex);
  });

  it('shows the consul npm client one store through different nodes', async () => {
    const [viaA, viaB, viaC] = [consulAt('a'), consulAt('b'), consulAt('c')];
    expect(await viaA.kv.set('npm/config/url', 'postgres://db')).toBe(true);
    expect(((await viaB.kv.get(consistent('npm/config/url'))) as KvItem).Value).toBe('postgres://db');
    // CAS through C with the index read through B.
    const item = (await viaB.kv.get(consistent('npm/config/url'))) as KvItem;
    expect(await viaC.kv.set({ key: 'npm/config/url', value: 'postgres://db2', cas: item.ModifyIndex })).toBe(true);
    expect(await viaA.kv.set({ key: 'npm/config/url', value: 'stale', cas: item.ModifyIndex })).toBeFalsy();
    expect(await viaA.kv.keys(consistent('npm/'))).toEqual(['npm/config/url']);
    // A watch through B sees a change made through C.
    const watch = viaB.watch({ method: viaB.kv.get, options: { key: 'npm/config/url', wait: '5s' } });
    try {
      expect((await nextEvent<KvItem>(watch, 'change')).Value).toBe('postgres://db2');
      const changed = nextEvent<KvItem>(watch, 'change');
      await viaC.kv.set('npm/config/url', 'postgres://db3');
      expect((await changed).Value).toBe('postgres://db3');
    } finally {
      watch.end();
    }
    expect(await viaA.kv.del('npm/config/url')).toBe(true);
    expect(await viaC.kv.get(consistent('npm/config/url'))).toBeUndefined();
  });

  it('lists the live nodes as peers, each its own leader; drops a stopped one at once, a killed one after its heartbeat TTL', async () => {
    const addresses = (...names: string[]): string[] => names.map((name) => cluster.address(name)).sort();
    const peers = async (node: string): Promise<string[]> => (JSON.parse((await get(node, '/v1/status/peers')).text) as string[]).sort();
    const all = addresses('a', 'b', 'c');
    await waitFor(async () => (await peers('a')).length === 3, 5000, 'three peers');
    for (const node of ['a', 'b', 'c']) {
      expect(await peers(node)).toEqual(all);
      expect(JSON.parse((await get(node, '/v1/status/leader')).text)).toBe(cluster.address(node));
      expect(await cluster.status(node)).toMatchObject({ NodeName: node, Transport: 'redis', KnownLeader: true, Members: ['a', 'b', 'c'], Lag: 0 });
    }
    // A graceful stop answers its long-polls at once (else one would hold it open for minutes)
    // and deletes its heartbeat on the way out.
    const remaining = addresses('a', 'c');
    const { index } = await get('b', '/v1/kv/watched');
    const longPoll = get('b', `/v1/kv/watched?index=${index}&wait=60s`);
    await waitFor(async () => (await cluster.status('b')).BlockingWaiters > 0, 5000, 'the long-poll waiting on b');
    const stopping = Date.now();
    expect(await cluster.stop('b')).toBe('SIGTERM');
    expect(Date.now() - stopping).toBeLessThan(5000);
    expect(await longPoll).toMatchObject({ status: 200, index });
    expect(await peers('a')).toEqual(remaining);
    // A killed node is listed until its key expires.
    await cluster.kill('c');
    const killedAt = Date.now();
    await waitFor(async () => (await peers('a')).length === 1, 3 * MEMBER_TTL_MS, 'the killed node leaving the peers');
    expect(Date.now() - killedAt).toBeLessThan(MEMBER_TTL_MS + 1000);
    expect(await peers('a')).toEqual(addresses('a'));
    expect((await cluster.status('a')).Members).toEqual(['a']);
  });
});
