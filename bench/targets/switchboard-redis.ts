/**
 * Switchboard in Redis mode (shared Redis log, REDIS_URL): the bench starts its own redis-server
 * (free loopback port, own temp dir, AOF with the given fsync policy, no RDB) and one or more
 * `node dist/main.js` nodes on it, each on its own free loopback port. Never the shared :6379.
 *
 * With several nodes the closed loop's workers are pinned round robin to the nodes (worker i →
 * node i mod n, each node its own keep-alive pool); seeding, probes and the CAS check go through
 * node 0.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { consulKv } from '../drivers/consul-kv.js';
import type { KvClient, KvClientFactory } from '../drivers/kv-client.js';
import { repoRoot } from '../lib/paths.js';
import { freePort, makeTempDir, removeTempDir, startChild, stopChild, waitForHttp, type Child } from '../lib/proc.js';
import { findRedisServer, REDIS_INSTALL_HINT, redisVersion, startRedis, type AppendFsync } from '../lib/redis.js';
import type { TargetId } from '../lib/config.js';
import { ONE_KEY } from '../workloads/fixtures.js';
import type { RunningTarget, Target } from './target.js';

const MAIN = join(repoRoot, 'dist', 'main.js');
const REDIS_BIN = findRedisServer();
export const REDIS_VERSION = redisVersion(REDIS_BIN);

/** Workers pinned to nodes; everything else (seed, probe, prepare, verify) through node 0. */
class SplitKvClient implements KvClient {
  constructor(private readonly nodes: KvClient[]) {}
  private get first(): KvClient {
    const n = this.nodes[0];
    if (!n) throw new Error('no nodes');
    return n;
  }
  forWorker(worker: number): KvClient {
    return this.nodes[worker % this.nodes.length] ?? this.first;
  }
  getOne(key: string): Promise<void> {
    return this.first.getOne(key);
  }
  getPrefix(prefix: string): Promise<void> {
    return this.first.getPrefix(prefix);
  }
  put(key: string, value: Buffer): Promise<void> {
    return this.first.put(key, value);
  }
  readCounter(key: string): ReturnType<KvClient['readCounter']> {
    return this.first.readCounter(key);
  }
  cas(key: string, version: string, value: Buffer): Promise<boolean> {
    return this.first.cas(key, version, value);
  }
  readValue(key: string): Promise<Buffer | undefined> {
    return this.first.readValue(key);
  }
  countPrefix(prefix: string): Promise<number> {
    return this.first.countPrefix(prefix);
  }
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}

function splitKv(origins: string[]): KvClientFactory {
  const factories = origins.map((o) => consulKv(o));
  if (factories.length === 1 && factories[0]) return factories[0];
  // Each node gets enough connections for the workers pinned to it.
  return (connections) => new SplitKvClient(factories.map((f) => f(Math.max(1, Math.ceil(connections / factories.length)))));
}

export function switchboardRedis(opts: { id: TargetId; label: string; appendfsync: AppendFsync; nodes: number }): Target {
  return {
    id: opts.id,
    label: opts.label,
    supports: ['get', 'recurse', 'put', 'cas'],
    writable: true,

    unavailable() {
      if (!existsSync(MAIN)) return `${MAIN} does not exist: run \`npm run build\` first (npm run bench does).`;
      if (!REDIS_BIN) return `redis-server not found on PATH: ${REDIS_INSTALL_HINT}.`;
      if (!REDIS_VERSION) return `${REDIS_BIN} --version did not report a version: ${REDIS_INSTALL_HINT}.`;
      return undefined;
    },

    async start(): Promise<RunningTarget> {
      if (!REDIS_BIN) throw new Error(`redis-server not found: ${REDIS_INSTALL_HINT}`);
      const dir = makeTempDir(opts.id);
      const redisDir = join(dir, 'redis');
      mkdirSync(redisDir);
      const nodes: Child[] = [];
      let redis: Child | undefined;
      const stop = async (): Promise<void> => {
        // nodes first (they hold connections to Redis), then Redis; each by PID
        await Promise.all(nodes.map((n) => stopChild(n)));
        if (redis) await stopChild(redis);
        removeTempDir(dir);
      };
      try {
        const r = await startRedis(REDIS_BIN, redisDir, opts.appendfsync);
        redis = r.child;
        const origins: string[] = [];
        for (let i = 0; i < opts.nodes; i++) {
          const name = `bench-${i + 1}`;
          const dataDir = join(dir, `data-${i + 1}`);
          mkdirSync(dataDir);
          const port = await freePort();
          const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REDIS_')));
          Object.assign(env, {
            PORT: String(port),
            HOST: '127.0.0.1',
            NODE_NAME: name,
            DATA_DIR: dataDir,
            NODE_ENV: 'production',
            REDIS_URL: r.url,
            REDIS_PREFIX: 'bench',
          });
          delete env.ADVERTISE_ADDR;
          const child = startChild(opts.nodes > 1 ? `switchboard ${name}` : 'switchboard', process.execPath, [MAIN], {
            cwd: repoRoot,
            env,
            logFile: join(dir, `${name}.log`),
          });
          nodes.push(child);
          origins.push(`http://127.0.0.1:${port}`);
        }
        // Any HTTP answer means it listens; a 404 for the not-yet-seeded key is expected.
        await Promise.all(nodes.map((n, i) => waitForHttp(n, `${origins[i] ?? ''}/v1/kv/${ONE_KEY}`, (status) => status === 200 || status === 404)));
        const [first, ...others] = nodes;
        if (!first) throw new Error('no node started');
        return { child: first, extraChildren: [...others, r.child], client: splitKv(origins), stop };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}

export const switchboardRedisEverysec = switchboardRedis({
  id: 'switchboard-redis-everysec',
  label: 'Switchboard Redis (AOF everysec)',
  appendfsync: 'everysec',
  nodes: 1,
});
export const switchboardRedisAlways = switchboardRedis({
  id: 'switchboard-redis-always',
  label: 'Switchboard Redis (AOF always)',
  appendfsync: 'always',
  nodes: 1,
});
export const switchboardRedis2Nodes = switchboardRedis({
  id: 'switchboard-redis-2nodes',
  label: 'Switchboard Redis, 2 nodes (AOF everysec)',
  appendfsync: 'everysec',
  nodes: 2,
});
