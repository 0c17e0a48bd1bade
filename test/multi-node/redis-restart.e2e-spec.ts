import { Cluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { startWriteLoad } from '../helpers/write-load.js';
import { waitFor } from '../helpers/wait-for.js';

interface Listed {
  Key: string;
  Value: string;
}

/**
 * Redis crashes (kill -9) and comes back under write load. With an fsync-always AOF every
 * acknowledged write is on disk before it is acknowledged; writes during the outage fail with 503.
 */
describe('Redis restarted under write load', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b', 'c'], {
      redis: ['--appendonly', 'yes', '--appendfsync', 'always'],
      // Outage writes fail fast instead of after the default 5 s.
      env: { REDIS_WRITE_TIMEOUT_MS: '1000' },
    });
  }, 60_000);
  afterAll(() => cluster?.dispose());

  it('keeps every acknowledged write, answers 503 meanwhile and recovers without a node restart', async () => {
    const pids = cluster.names.map((name) => cluster.node(name).process.pid);
    const targets = cluster.names.map((name) => ({ name, url: cluster.url(name) }));
    const load = startWriteLoad(targets, { clients: 24, prefix: 'outage' });
    try {
      await waitFor(() => load.acknowledged >= 3000, 30_000, '3000 writes before the crash');
      await cluster.redis.kill9();
      const down = load.failures.length;
      // Two failed writes per client: the outage outlasts the write timeout twice over.
      await waitFor(() => load.failures.length >= down + 48, 15_000, 'writes failing during the outage');
      // Reads keep answering from memory, saying the log is out of reach.
      const read = await rawRequest(cluster.url('b'), '/v1/kv/outage/?keys');
      expect(read.status).toBe(200);
      expect(read.headers['x-consul-knownleader']).toBe('false');
      await cluster.redis.restart();
      const atRestart = load.acknowledged;
      await waitFor(() => load.acknowledged >= atRestart + 3000, 30_000, '3000 writes after Redis came back');
    } finally {
      await load.stop();
    }
    const result = await load.done;

    expect(result.failures.length).toBeGreaterThan(0);
    for (const failure of result.failures) {
      expect(failure).toEqual({ node: failure.node, key: failure.key, status: 503, body: expect.stringMatching(/^[^\r\n]+$/) });
    }
    for (const name of cluster.names) expect(result.ackedBy.get(name)).toBeGreaterThan(0);
    expect(cluster.names.map((name) => cluster.node(name).process.pid)).toEqual(pids);

    const statuses = await cluster.converged();
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
    const listed = JSON.parse((await rawRequest(cluster.url('a'), '/v1/kv/outage/?recurse')).text) as Listed[];
    const stored = new Map(listed.map((item) => [item.Key, Buffer.from(item.Value, 'base64').toString()]));
    const lost = [...result.acked].filter(([key, value]) => stored.get(key) !== value);
    expect(lost).toEqual([]);
  }, 120_000);
});
