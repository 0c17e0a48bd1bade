import { rm } from 'node:fs/promises';
import { Cluster } from '../helpers/cluster.js';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.js';
import { WatchClient } from '../helpers/watch-client.js';
import { historyAfter, watchViolations } from '../helpers/watch-validator.js';

/**
 * Writes `resume/<n>` one after another to whichever node `target()` names until stopped; a
 * write that fails because that node just went away is simply retried on the next round.
 */
function startWriter(target: () => string): { stop(): Promise<number> } {
  let running = true;
  let written = 0;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(`${target()}/v1/kv/resume/${written % 5}`, { method: 'PUT', body: `v${written}` });
        await res.text();
        if (res.ok) written++;
      } catch {
        // The node is being killed or replaced: the next round goes to the current target.
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return written;
    },
  };
}

/**
 * Follows `resume/` across a node going away: subscribe on `before`, let writes flow, lose that
 * node, re-subscribe on `after()` from the last index seen + 1, and check the whole record
 * (ordered, unique, atomic, reliable, resumable) against `after`'s /v1/history.
 */
async function followAcrossSwitch(before: string, loseNode: () => Promise<string>): Promise<string[]> {
  const first = await WatchClient.connect(before);
  const { id, index } = await first.subscribed({ key: 'resume/', recurse: true, prev: true });
  let url = before;
  const writer = startWriter(() => url);
  await first.until(() => first.eventsOf(id).length >= 10, 'ten events before the switch');
  url = await loseNode();
  first.close();
  const lastSeen = first.eventsOf(id).at(-1)!.index;
  const second = await WatchClient.connect(url);
  try {
    const resumed = await second.subscribed({ key: 'resume/', recurse: true, prev: true, fromIndex: lastSeen + 1 });
    await second.until(() => second.eventsOf(resumed.id).length >= 10, 'ten events after the switch');
    await writer.stop();
    const history = await historyAfter(url, 'resume/', true, index);
    const last = history.at(-1)!.ModifyIndex;
    await second.until(() => second.eventsOf(resumed.id).at(-1)?.index === last, 'the last write');
    return watchViolations([first.eventsOf(id), second.eventsOf(resumed.id)], history, index + 1);
  } finally {
    await writer.stop();
    second.close();
  }
}

describe('resuming a watch on another process', () => {
  it('embedded: across a kill -9 and restart of the server on the same data dir', async () => {
    const dataDir = await tempDir();
    let server: ChildServer | undefined = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'restarted' });
    try {
      const violations = await followAcrossSwitch(server.url, async () => {
        server!.process.kill('SIGKILL');
        await server!.exited;
        server = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'restarted' });
        return server.url;
      });
      expect(violations).toEqual([]);
    } finally {
      server?.process.kill('SIGKILL');
      await server?.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('Redis mode: from node A, killed, to node B sharing the log', async () => {
    const cluster = await Cluster.start(['a', 'b']);
    try {
      const violations = await followAcrossSwitch(cluster.url('a'), async () => {
        await cluster.kill('a');
        return cluster.url('b');
      });
      expect(violations).toEqual([]);
    } finally {
      await cluster.dispose();
    }
  }, 60_000);
});
