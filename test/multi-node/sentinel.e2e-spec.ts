import { Redis } from 'ioredis';
import { Nodes } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { type RedisServer, startRedisServer, startSentinel } from '../helpers/redis-server.js';
import { startWriteLoad } from '../helpers/write-load.js';
import { waitFor } from '../helpers/wait-for.js';

interface Listed {
  Key: string;
  Value: string;
}

const MASTER_NAME = 'switchboard-test';
const DURABLE = ['--appendonly', 'yes', '--appendfsync', 'always'];

/** One command on a short-lived connection of its own (no retries: a dead server is an error). */
async function onRedis<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

/** Ports of the replicas the server at `port` streams to, by its INFO replication. */
async function onlineReplicas(port: number): Promise<number[]> {
  const info = await onRedis(port, (client) => client.info('replication'));
  return [...info.matchAll(/^slave\d+:ip=[^,]+,port=(\d+),state=online,/gm)].map((match) => Number(match[1]));
}

/** Replicas (up to `count`, within 10 s) holding everything the master at `port` has taken so far. */
function replicatedTo(port: number, count: number): Promise<number> {
  return onRedis(port, async (client) => {
    // WAIT counts replicas holding this connection's last write; with none it counts them all at once.
    await client.set('sentinel-test:marker', String(Date.now()));
    return client.wait(count, 10_000);
  });
}

/**
 * A node configured with Redis Sentinel only (REDIS_SENTINELS + REDIS_MASTER_NAME, no REDIS_URL)
 * on a master with two replicas and REDIS_WAIT_REPLICAS=1, through a kill -9 of the master.
 */
describe('Redis Sentinel', () => {
  let master: RedisServer;
  let replicas: RedisServer[] = [];
  let sentinel: RedisServer;
  let nodes: Nodes;

  const sentinelMasterPort = (): Promise<number> =>
    onRedis(sentinel.port, async (client) => Number(((await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string])[1]));
  const put = (key: string, value: string) => rawRequest(nodes.url('a'), `/v1/kv/${key}`, { method: 'PUT', body: value });
  const listed = async (prefix: string): Promise<Map<string, string>> => {
    const items = JSON.parse((await rawRequest(nodes.url('a'), `/v1/kv/${prefix}/?recurse&consistent`)).text) as Listed[];
    return new Map(items.map((item) => [item.Key, Buffer.from(item.Value, 'base64').toString()]));
  };

  beforeAll(async () => {
    // Replicas sync at once, not after the default 5 s wait for more replicas to share the transfer.
    master = await startRedisServer({ args: [...DURABLE, '--repl-diskless-sync-delay', '0'] });
    replicas = await Promise.all([1, 2].map(() => startRedisServer({ args: [...DURABLE, '--replicaof', '127.0.0.1', String(master.port)] })));
    await waitFor(async () => (await onlineReplicas(master.port)).length === 2, 15_000, 'both replicas in sync with the master');
    sentinel = await startSentinel({ masterName: MASTER_NAME, masterPort: master.port, downAfterMs: 1000, failoverTimeoutMs: 3000 });
    // Sentinel can only promote a replica it knows of; it learns them from the master's INFO.
    await waitFor(
      async () => ((await onRedis(sentinel.port, (client) => client.call('SENTINEL', 'replicas', MASTER_NAME))) as unknown[]).length === 2,
      15_000,
      'Sentinel knowing both replicas',
    );
    nodes = new Nodes({
      REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
      REDIS_MASTER_NAME: MASTER_NAME,
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '1000',
      // Writes during the failover fail fast instead of after the default 5 s.
      REDIS_WRITE_TIMEOUT_MS: '2000',
    });
    await nodes.spawn('a');
  }, 60_000);
  afterAll(async () => {
    await nodes?.dispose();
    await Promise.all([sentinel, ...replicas, master].map((server) => server?.dispose()));
  });

  it('writes to the master Sentinel names and reads the writes back', async () => {
    expect(await sentinelMasterPort()).toBe(master.port);
    for (let i = 0; i < 20; i++) {
      const res = await put(`found/${i}`, `value ${i}`);
      expect([res.status, res.text]).toEqual([200, 'true']);
    }
    for (let i = 0; i < 20; i++) expect((await rawRequest(nodes.url('a'), `/v1/kv/found/${i}?raw`)).text).toBe(`value ${i}`);
    expect(await nodes.status('a')).toMatchObject({ Transport: 'redis', KnownLeader: true, Lag: 0 });
    // Both of the node's connections (commands and tail) are on the master Sentinel named.
    const clients = await onRedis(master.port, (client) => client.call('CLIENT', 'LIST') as Promise<string>);
    expect([...clients.matchAll(/ name=switchboard:a:(\w+) /g)].map((match) => match[1]).sort()).toEqual(['commands', 'tail']);
  });

  it('with REDIS_WAIT_REPLICAS=1, acknowledges a write only once a replica has it', async () => {
    for (const replica of replicas) process.kill(replica.pid, 'SIGSTOP');
    let unconfirmed;
    try {
      unconfirmed = await put('unconfirmed', 'x');
    } finally {
      for (const replica of replicas) process.kill(replica.pid, 'SIGCONT');
    }
    expect(unconfirmed.status).toBe(503);
    expect(unconfirmed.text).toMatch(/^seq \d+ is in the log but only 0 of 1 required Redis replicas acknowledged it within 1000 ms; a failover may lose it$/);
    // Both replicas caught up again before the next test fails over to one of them.
    expect(await replicatedTo(master.port, 2)).toBe(2);
    const confirmed = await put('confirmed', 'y');
    expect([confirmed.status, confirmed.text]).toEqual([200, 'true']);
    // The 503 said the entry is in the log: it is, only unconfirmed.
    expect((await rawRequest(nodes.url('a'), '/v1/kv/unconfirmed?raw&consistent')).text).toBe('x');
  });

  it('fails over after kill -9 of the master: keeps the replicated writes and takes writes again without a restart', async () => {
    const target = [{ name: 'a', url: nodes.url('a') }];
    const pid = nodes.node('a').process.pid;
    const before = await startWriteLoad(target, { clients: 4, prefix: 'before', total: 400 }).done;
    expect(before.failures).toEqual([]);
    // Every write so far is on both replicas, whichever one Sentinel promotes. (Writes acknowledged
    // after this are on at least one, which Sentinel may or may not pick: not checked below.)
    expect(await replicatedTo(master.port, 2)).toBe(2);

    const load = startWriteLoad(target, { clients: 4, prefix: 'switch' });
    let promoted = 0;
    try {
      await waitFor(() => load.acknowledged >= 100, 15_000, '100 writes before the kill');
      await master.kill9();
      await waitFor(async () => (promoted = await sentinelMasterPort()) !== master.port, 20_000, 'Sentinel promoting a replica');
      expect(replicas.map((replica) => replica.port)).toContain(promoted);
      // Sentinel points the other replica at the new master; writes are confirmed again from then on.
      await waitFor(async () => (await onlineReplicas(promoted)).length === 1, 20_000, 'the other replica following the new master');
      const atRecovery = load.acknowledged;
      await waitFor(() => load.acknowledged >= atRecovery + 100, 20_000, '100 writes acknowledged after the failover');
    } finally {
      await load.stop();
    }
    const during = await load.done;
    // Writes during the switch may fail, each with a 503 and a one-line reason; none is cut off.
    for (const failure of during.failures) {
      expect(failure).toEqual({ node: 'a', key: failure.key, status: 503, body: expect.stringMatching(/^[^\r\n]+$/) });
    }

    const after = await startWriteLoad(target, { clients: 4, prefix: 'after', total: 300 }).done;
    expect(after.failures).toEqual([]);
    expect(nodes.node('a').process.pid).toBe(pid);
    expect(nodes.node('a').process.exitCode).toBeNull();

    for (const [prefix, result] of [['before', before], ['after', after]] as const) {
      const stored = await listed(prefix);
      expect([...result.acked].filter(([key, value]) => stored.get(key) !== value)).toEqual([]);
    }
    // A node started now loads only what the promoted replica has and reaches the same state: the
    // first node kept nothing the new master lacks.
    await nodes.spawn('b');
    const statuses = await nodes.converged();
    expect(statuses.map((status) => status.Transport)).toEqual(['redis', 'redis']);
    expect(new Set(statuses.map((status) => status.StateDigest)).size).toBe(1);
  }, 120_000);
});
