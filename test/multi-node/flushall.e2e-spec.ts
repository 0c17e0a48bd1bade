import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { startWriteLoad } from '../helpers/write-load.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);

/**
 * FLUSHALL on the cluster's (private) Redis under write load: the history the nodes hold is gone.
 * They must notice, say so, drop their state for what Redis now has, and carry on.
 */
describe('FLUSHALL under the nodes', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b', 'c'], { env: { REDIS_WRITE_TIMEOUT_MS: '1000' } });
  }, 60_000);
  afterAll(() => cluster?.dispose());

  it('makes every node resync to the new history, keep running and take writes again', async () => {
    const pids = cluster.names.map((name) => cluster.node(name).process.pid);
    const targets = cluster.names.map((name) => ({ name, url: cluster.url(name) }));
    const before = startWriteLoad(targets, { clients: 12, prefix: 'before', total: 3000 });
    const { failures: failedBefore } = await before.done;
    expect(failedBefore).toEqual([]);

    const load = startWriteLoad(targets, { clients: 12, prefix: 'during' });
    try {
      await waitFor(() => load.acknowledged >= 1000, 30_000, '1000 writes before the flush');
      await run('redis-cli', ['-p', String(cluster.redis.port), 'FLUSHALL']);
      for (const name of cluster.names) {
        await waitFor(() => /ERROR.*history was replaced/.test(cluster.node(name).output()), 15_000, `node ${name} logging the lost history`);
      }
      const afterFlush = load.acknowledged;
      await waitFor(() => load.acknowledged >= afterFlush + 2000, 30_000, '2000 writes after the resync');
    } finally {
      await load.stop();
    }
    const result = await load.done;
    // A write caught by the flush may fail (503: its outcome is unknown or it was refused), none otherwise.
    for (const failure of result.failures) expect(failure).toMatchObject({ status: 503, body: expect.stringMatching(/^[^\r\n]+$/) });
    expect(cluster.names.map((name) => cluster.node(name).process.pid)).toEqual(pids);

    const statuses = await cluster.converged();
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
    // The state is what Redis holds now, not a mix: what was written before the flush is gone.
    for (const name of cluster.names) {
      expect((await rawRequest(cluster.url(name), '/v1/kv/before/?keys')).status).toBe(404);
      const written = await rawRequest(cluster.url(name), '/v1/kv/after-resync', { method: 'PUT', body: name });
      expect([written.status, written.text]).toEqual([200, 'true']);
    }
  }, 120_000);
});
