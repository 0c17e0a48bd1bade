import { type ClientRequest, request } from 'node:http';
import { rm } from 'node:fs/promises';
import { rawRequest } from '../helpers/http.js';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const QUERIES = 10_000;

async function blockingWaiters(url: string): Promise<number> {
  const self = JSON.parse((await rawRequest(url, '/v1/agent/self')).text) as { Switchboard: { BlockingWaiters: number } };
  return self.Switchboard.BlockingWaiters;
}

/**
 * 10,000 long-polls opened then dropped by their clients leave no waiter behind. The server runs
 * as a child process so the two ends' sockets don't share one process's descriptor limit.
 */
describe('blocking queries dropped by their clients', () => {
  let dataDir: string;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dataDir = await tempDir();
    server = await spawnServer({ DATA_DIR: dataDir });
  });
  afterAll(async () => {
    server?.process.kill('SIGTERM');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`${QUERIES} concurrent blocking queries are all released when their clients disconnect`, async () => {
    await rawRequest(server!.url, '/v1/kv/watched', { method: 'PUT', body: 'v' });
    const index = Number((await rawRequest(server!.url, '/v1/kv/watched')).headers['x-consul-index']);
    const url = new URL(server!.url);
    const requests: ClientRequest[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const path = i % 2 === 0 ? `/v1/kv/watched?index=${index}&wait=5m` : `/v1/kv/?recurse&index=${index}&wait=5m`;
      const req = request({ host: url.hostname, port: url.port, path, agent: false });
      req.on('error', () => undefined);
      req.end();
      requests.push(req);
    }
    await waitFor(async () => (await blockingWaiters(server!.url)) === QUERIES, 60_000, `${QUERIES} waiters registered`);
    for (const req of requests) req.destroy();
    await waitFor(async () => (await blockingWaiters(server!.url)) === 0, 30_000, 'every waiter released');
    // Still healthy, and a write wakes nobody who has gone.
    expect((await rawRequest(server!.url, '/v1/kv/watched', { method: 'PUT', body: 'w' })).text).toBe('true');
  }, 120_000);
});
