import { Cluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { startWriteLoad } from '../helpers/write-load.js';
import { waitFor } from '../helpers/wait-for.js';

/** kill -9 of one node while all three take writes: the others do not notice, the dead one catches up. */
describe('a node killed under write load', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // Snapshots (and trims) along the way: the restarted node loads one, the dying one may hold the lock.
    cluster = await Cluster.start(['a', 'b', 'c'], { env: { SNAPSHOT_EVERY: '2000', REDIS_RETAINED_ENTRIES: '1000' } });
  }, 60_000);
  afterAll(() => cluster?.dispose());

  it('leaves the others serving every write, and catches up to the same state when restarted', async () => {
    const targets = cluster.names.map((name) => ({ name, url: cluster.url(name) }));
    const load = startWriteLoad(targets, { clients: 24, prefix: 'crash' });
    try {
      await waitFor(() => load.acknowledged >= 3000, 30_000, '3000 writes before the kill');
      await cluster.kill('c');
      const atKill = load.acknowledged;
      await waitFor(() => load.acknowledged >= atKill + 3000, 30_000, '3000 more writes through a and b');
      // Back while writes go on: it loads what Redis has and follows the rest.
      await cluster.spawn('c');
      const atRestart = load.acknowledged;
      await waitFor(() => load.acknowledged >= atRestart + 2000, 30_000, '2000 writes after the restart');
    } finally {
      await load.stop();
    }
    const result = await load.done;

    expect(result.failures.filter((f) => f.node !== 'c')).toEqual([]);
    // Through c: at most its in-flight requests, cut by the kill (no HTTP answer at all).
    expect(result.failures.every((f) => f.node === 'c' && f.status === undefined)).toBe(true);
    expect(result.ackedBy.get('a')).toBeGreaterThan(0);

    const statuses = await cluster.converged();
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
    // The digests agree and cover every acknowledged write, those acknowledged by c before it died included.
    const listed = JSON.parse((await rawRequest(cluster.url('c'), '/v1/kv/crash/?keys')).text) as string[];
    const present = new Set(listed);
    expect([...result.acked.keys()].filter((key) => !present.has(key))).toEqual([]);
  }, 120_000);
});
