import { rm } from 'node:fs/promises';
import { rawRequest } from '../helpers/http.js';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.js';

interface Listed {
  Key: string;
  Value: string;
  ModifyIndex: number;
}

const CLIENTS = 32;
const WRITES = 1000;

/** Writes `count` unique keys from CLIENTS concurrent clients; returns the keys acknowledged with `true`. */
async function writeConcurrently(url: string, prefix: string, count: number, stopOnError = false): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < count) {
      const key = `${prefix}/${String(next++).padStart(5, '0')}`;
      try {
        const res = await rawRequest(url, `/v1/kv/${key}`, { method: 'PUT', body: `value of ${key}` });
        if (res.status === 200 && res.text === 'true') acknowledged.push(key);
      } catch (error) {
        if (stopOnError) return;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return acknowledged;
}

async function listAll(url: string): Promise<Map<string, Listed>> {
  const res = await rawRequest(url, '/v1/kv/?recurse');
  const items = res.status === 404 ? [] : (JSON.parse(res.text) as Listed[]);
  return new Map(items.map((item) => [item.Key, item]));
}

describe('durability of acknowledged writes (embedded file log)', () => {
  let dataDir: string;
  let server: ChildServer | undefined;

  beforeEach(async () => {
    dataDir = await tempDir();
  });
  afterEach(async () => {
    server?.process.kill('SIGKILL');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['without a snapshot', '1000000'],
    ['with snapshots taken along the way', '300'],
  ])('every acknowledged write survives kill -9 and restart (%s)', async (_label, snapshotEvery) => {
    const env = { DATA_DIR: dataDir, SNAPSHOT_EVERY: snapshotEvery };
    server = await spawnServer(env);
    const settled = await writeConcurrently(server.url, 'settled', WRITES);
    expect(settled).toHaveLength(WRITES);
    const before = await listAll(server.url);

    // A second burst is cut by SIGKILL once half of it is acknowledged: what was acked must survive.
    const target = server;
    let killed = false;
    const inFlight = writeConcurrently(target.url, 'inflight', WRITES, true);
    const killer = (async () => {
      while (!killed) {
        const listed = await rawRequest(target.url, '/v1/kv/inflight/?keys').catch(() => undefined);
        if (listed?.status === 200 && (JSON.parse(listed.text) as string[]).length >= WRITES / 2) {
          target.process.kill('SIGKILL');
          killed = true;
        }
      }
    })();
    const [acknowledgedInFlight] = await Promise.all([inFlight, killer]);
    expect(await target.exited).toBe('SIGKILL');

    server = await spawnServer(env);
    const after = await listAll(server.url);
    for (const [key, item] of before) {
      expect(after.get(key)).toEqual(item);
    }
    for (const key of acknowledgedInFlight) {
      expect(after.get(key)?.Value).toBe(Buffer.from(`value of ${key}`).toString('base64'));
    }
    // The server keeps going from where the log ends: new writes get higher indexes.
    await rawRequest(server.url, '/v1/kv/after-restart', { method: 'PUT', body: 'x' });
    const newest = (await listAll(server.url)).get('after-restart')!;
    expect(newest.ModifyIndex).toBeGreaterThan(Math.max(...[...after.values()].map((i) => i.ModifyIndex)));
  }, 120_000);
});
