import { Pool } from 'undici';
import { Cluster } from '../helpers/cluster.js';

const NODES = ['a', 'b', 'c'];
const CLIENTS = 48;
const INCREMENTS = 200;
/** A client that loses this many races in a row for one increment is stuck, not unlucky. */
const MAX_ATTEMPTS = 10_000;

/**
 * A counter incremented by compare-and-swap from clients spread over three nodes: the log orders
 * concurrent CAS writes the same way on every node, so exactly the writes answered `true` count.
 */
/**
 * Randomised exponential back-off after a lost race, as CAS clients under contention do: a
 * retry policy, not a synchronisation. Without it 48 clients spend 2 shared cores re-reading a
 * value one of them is about to replace (measured: ~27 lost races per increment, ~130
 * increments/s, against ~3 and ~380/s with it).
 */
function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 200)));
}

describe('CAS counter across three nodes', () => {
  let cluster: Cluster;
  const pools = new Map<string, Pool>();

  beforeAll(async () => {
    cluster = await Cluster.start(NODES);
    for (const node of NODES) pools.set(node, new Pool(cluster.url(node), { connections: CLIENTS / NODES.length }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...pools.values()].map((pool) => pool.destroy()));
    await cluster?.dispose();
  });

  it(`counts exactly the true answers of ${CLIENTS} clients × ${INCREMENTS} increments`, async () => {
    const first = await pools.get('a')!.request({ path: '/v1/kv/counter?cas=0', method: 'PUT', body: '0' });
    expect(await first.body.text()).toBe('true');
    let trues = 0;
    let falses = 0;

    const client = async (index: number): Promise<void> => {
      const pool = pools.get(NODES[index % NODES.length]!)!;
      let seen = 0;
      for (let done = 0; done < INCREMENTS; done++) {
        for (let attempt = 1; ; attempt++) {
          if (attempt > MAX_ATTEMPTS) throw new Error(`client ${index} could not increment in ${MAX_ATTEMPTS} attempts`);
          // A local (default) read, so it may lag and the CAS then fail. After a lost race it
          // blocks until this node has a newer value than the one that lost, as a Consul client
          // would, instead of spinning on a value already known to be stale.
          const read = await pool.request({ path: `/v1/kv/counter?raw${attempt > 1 ? `&index=${seen}&wait=30s` : ''}`, method: 'GET' });
          const value = Number(await read.body.text());
          const modifyIndex = Number(read.headers['x-consul-index']);
          seen = modifyIndex;
          expect(read.statusCode).toBe(200);
          const write = await pool.request({ path: `/v1/kv/counter?cas=${modifyIndex}`, method: 'PUT', body: String(value + 1) });
          const answer = await write.body.text();
          expect([write.statusCode, answer]).toEqual([200, expect.stringMatching(/^(true|false)$/)]);
          if (answer === 'true') {
            trues++;
            break;
          }
          falses++;
          await backOff(attempt);
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    const elapsed = Date.now() - started;

    expect(trues).toBe(CLIENTS * INCREMENTS);
    for (const node of NODES) {
      const read = await pools.get(node)!.request({ path: '/v1/kv/counter?raw&consistent', method: 'GET' });
      expect([node, Number(await read.body.text())]).toEqual([node, trues]);
    }
    const statuses = await cluster.converged();
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
    console.log(`CAS counter: ${trues} increments (${falses} lost races) in ${elapsed} ms, log at ${statuses[0]!.AppliedIndex}`);
  }, 300_000);
});
