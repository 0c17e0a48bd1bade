import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../helpers/cluster.js';
import { startWriteLoad } from '../helpers/write-load.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);

/** A node frozen (SIGSTOP) while the others write and trim past it must resync when it wakes. */
describe('a node paused past the retained tail', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b'], { env: { SNAPSHOT_EVERY: '1000', REDIS_RETAINED_ENTRIES: '500' } });
    // c never snapshots: frozen while holding the snapshot lock, it would stop the trimming
    // this test waits for until the lock expired (a minute).
    await cluster.spawn('c', { SNAPSHOT_EVERY: '100000000' });
  }, 60_000);
  afterAll(async () => {
    const pid = cluster?.node('c').process.pid;
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await cluster?.dispose();
  });

  it('resyncs from the snapshot when it wakes while the others serve on', async () => {
    const targets = cluster.names.map((name) => ({ name, url: cluster.url(name) }));
    const load = startWriteLoad(targets, { clients: 24, prefix: 'pause' });
    const firstSeq = async (): Promise<number> => {
      const { stdout } = await run('redis-cli', ['-p', String(cluster.redis.port), 'XRANGE', `{${cluster.prefix}}:log`, '-', '+', 'COUNT', '1']);
      return Number(stdout.split('\n')[0]?.split('-')[0]);
    };
    try {
      await waitFor(() => load.acknowledged >= 2000, 30_000, '2000 writes before the pause');
      process.kill(cluster.node('c').process.pid!, 'SIGSTOP');
      // Frozen, c cannot have read beyond the log's end as it is now.
      const { LogIndex: reachable } = await cluster.status('a');
      await waitFor(async () => (await firstSeq()) > reachable! + 1, 30_000, 'the log trimmed past the paused node');
      process.kill(cluster.node('c').process.pid!, 'SIGCONT');
      await waitFor(() => /fell behind the retained tail/.test(cluster.node('c').output()), 15_000, 'c noticing it fell behind');
      const atResume = load.acknowledged;
      await waitFor(() => load.acknowledged >= atResume + 2000, 30_000, '2000 writes after the resume');
    } finally {
      await load.stop();
    }
    const result = await load.done;
    // Writes through a and b never notice. Those c had in flight when it froze are in the log but
    // were folded into the snapshot it resynced from, so their results are gone: 503, outcome unknown.
    expect(result.failures.filter((f) => f.node !== 'c')).toEqual([]);
    for (const failure of result.failures) {
      expect(failure).toMatchObject({ status: 503, body: expect.stringMatching(/^the log was reset \(.*fell behind the retained tail.*may not have been applied$/) });
    }
    expect(result.failures.length).toBeLessThanOrEqual(8);
    expect(result.ackedBy.get('c')).toBeGreaterThan(0);
    const statuses = await cluster.converged();
    expect(new Set(statuses.map((s) => s.StateDigest)).size).toBe(1);
    const listed = new Set((await (await fetch(`${cluster.url('c')}/v1/kv/pause/?keys`)).json()) as string[]);
    expect([...result.acked.keys()].filter((key) => !listed.has(key))).toEqual([]);
  }, 120_000);
});
