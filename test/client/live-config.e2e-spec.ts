import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigChange, Switchboard } from '../../src/client/index.js';
import { type ChildServer, spawnServer, startServer, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 };

async function cachedIndex(file: string): Promise<number> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { index: number }).index;
  } catch {
    return 0;
  }
}

describe('Switchboard.liveConfig', () => {
  it('keeps a prefix live, applies a txn as one change, and writes the cache', async () => {
    const server = await startServer();
    const dir = await tempDir();
    const cacheFile = join(dir, 'config.json');
    try {
      await using client = new Switchboard({ address: server.url, cacheFile });
      await client.kv.put('app/db', 'postgres://a');
      await using config = await client.liveConfig('app/');
      expect(config.source).toBe('server');
      expect(config.get('app/db')?.value.toString()).toBe('postgres://a');
      const changes: ConfigChange[] = [];
      config.onChange((change) => changes.push(change));
      await client.kv.txn([
        { verb: 'set', key: 'app/db', value: 'postgres://b' },
        { verb: 'set', key: 'app/pool', value: '20' },
      ]);
      await waitFor(() => changes.length > 0, 5000, 'the change');
      expect(changes).toEqual([{ index: config.index, source: 'server', changedKeys: ['app/db', 'app/pool'] }]);
      expect([...config.snapshot().keys()]).toEqual(['app/db', 'app/pool']);
      await waitFor(async () => (await cachedIndex(cacheFile)) === config.index, 5000, 'the cache write');
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('boots from the cache when the server is down, says so once, and goes live when it returns', async () => {
    const dataDir = await tempDir();
    const cacheDir = await tempDir();
    const cacheFile = join(cacheDir, 'config.json');
    let server: ChildServer = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'sdk-cache' });
    const port = new URL(server.url).port;
    try {
      {
        await using client = new Switchboard({ address: server.url, cacheFile });
        await client.kv.put('svc/url', 'http://old');
        await using config = await client.liveConfig('svc/');
        await waitFor(async () => (await cachedIndex(cacheFile)) === config.index, 5000, 'the cache write');
      }
      server.process.kill('SIGKILL');
      await server.exited;

      const warnings: string[] = [];
      await using client = new Switchboard({ address: server.url, cacheFile, backoff: FAST_BACKOFF, logger: { warn: (m) => warnings.push(m) } });
      await using config = await client.liveConfig('svc/');
      expect(config.source).toBe('cache');
      expect(config.get('svc/url')?.value.toString()).toBe('http://old');
      expect(warnings).toEqual([expect.stringMatching(/^serving "svc\/" from cache .*config\.json \(server unreachable: .+\)$/)]);

      const changes: ConfigChange[] = [];
      config.onChange((change) => changes.push(change));
      server = await spawnServer({ DATA_DIR: dataDir, NODE_NAME: 'sdk-cache', PORT: port });
      const writer = new Switchboard({ address: server.url });
      await writer.kv.put('svc/url', 'http://new');
      await writer.close();
      await waitFor(() => config.get('svc/url')?.value.toString() === 'http://new', 15_000, 'the live value');
      expect(config.source).toBe('server');
      expect(changes.at(-1)).toMatchObject({ source: 'server', changedKeys: ['svc/url'] });
      expect(warnings.filter((w) => w.startsWith('serving'))).toHaveLength(1);
    } finally {
      server.process.kill('SIGKILL');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 40_000);

  it('fails boot with one clear UNAVAILABLE error when the server is down and there is no cache', async () => {
    await using client = new Switchboard({ address: 'http://127.0.0.1:1', cacheFile: '/nonexistent/config.json' });
    await expect(client.liveConfig('svc/')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^cannot load "svc\/": server unreachable \(.+\) and there is no cache at \/nonexistent\/config\.json$/),
    });
  });
});
