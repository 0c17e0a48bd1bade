import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWriteLoad } from '../helpers/write-load.js';

const run = promisify(execFile);

const WRITES = 300_000;
const SNAPSHOT_EVERY = 5000;
const RETAINED = 2000;

/**
 * Snapshots and trims under sustained load from 96 keep-alive clients: nodes that join halfway
 * and afterwards load the newest snapshot plus the stream after it, and end up byte for byte in
 * the state of the nodes that applied every entry.
 */
describe('snapshots and trimming under 300,000 writes', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b', 'c'], {
      env: { SNAPSHOT_EVERY: String(SNAPSHOT_EVERY), REDIS_RETAINED_ENTRIES: String(RETAINED) },
    });
  }, 60_000);
  afterAll(() => cluster?.dispose());

  it('lets a fresh node converge to the identical state digest', async () => {
    const targets = cluster.names.map((name) => ({ name, url: cluster.url(name) }));
    // 30,000 keys written 10 times each: the per-key versions and the history ring fill up.
    const load = startWriteLoad(targets, { clients: 96, prefix: 'bulk', total: WRITES, keySpace: 30_000 });
    // One node joins halfway, while snapshots are switched and the stream trimmed under it.
    await waitFor(() => load.answered >= WRITES / 2, 240_000, 'half of the writes');
    const joined = await cluster.spawn('midway');
    expect(joined.output()).toMatch(/snapshot at seq [1-9]\d*/);
    const result = await load.done;
    const rate = Math.round((WRITES / result.elapsedMs) * 1000);
    console.log(`snapshot-trim: ${WRITES} writes in ${result.elapsedMs} ms (${rate}/s)`);
    expect(result.failures).toEqual([]);
    expect(result.acknowledged).toBe(WRITES);

    // Trimmed: the stream no longer starts at seq 1 (how far it lags behind the head depends on
    // how often snapshots may run: each waits until the last one's cost is under 5% of the time since).
    const redis = (...args: string[]): Promise<string> => run('redis-cli', ['-p', String(cluster.redis.port), ...args]).then((r) => r.stdout.trim());
    const [firstId] = (await redis('XRANGE', `{${cluster.prefix}}:log`, '-', '+', 'COUNT', '1')).split('\n');
    expect(Number(firstId?.split('-')[0])).toBeGreaterThan(SNAPSHOT_EVERY);
    const stored = cluster.names.flatMap((name) => cluster.node(name).output().match(/stored the snapshot at seq \d+/g) ?? []);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    console.log(`snapshot-trim: ${stored.length} snapshots stored, log now ${await redis('XLEN', `{${cluster.prefix}}:log`)} entries from ${firstId}`);

    const spawned = Date.now();
    const fresh = await cluster.spawn('fresh');
    expect(fresh.output()).toMatch(/snapshot at seq [1-9]\d*/);
    const statuses = await cluster.converged(60_000);
    console.log(`snapshot-trim: fresh node serving and converged in ${Date.now() - spawned} ms`);
    expect(statuses.map((s) => s.NodeName).sort()).toEqual(['a', 'b', 'c', 'fresh', 'midway']);
    expect(statuses[0]!.AppliedIndex).toBeGreaterThan(WRITES);
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
  }, 480_000);
});
