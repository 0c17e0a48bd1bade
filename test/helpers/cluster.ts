import { randomBytes } from 'node:crypto';
import { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server.js';
import { type ChildServer, spawnServer } from './server.js';
import { waitFor } from './wait-for.js';

/** The `Switchboard` section of /v1/agent/self. */
export interface NodeStatus {
  readonly NodeName: string;
  readonly Address: string;
  readonly Transport: 'file' | 'redis';
  readonly AppliedIndex: number;
  readonly LogIndex: number | null;
  readonly Lag: number | null;
  readonly KnownLeader: boolean;
  readonly LastContactMs: number;
  readonly Members: string[] | null;
  readonly BlockingWaiters: number;
  readonly WatchSubscriptions: number;
  readonly WatchBufferedBytes: number;
  readonly StateDigest: string;
}

export interface ClusterOptions {
  /** Extra redis-server arguments, e.g. an fsync-always AOF. */
  readonly redis?: RedisServerOptions['args'];
  /** Environment every node gets (per-node extras go to spawn()). */
  readonly env?: Record<string, string>;
}

/**
 * Switchboard nodes as child processes (`dist/main.js`) on one Redis, named by `env` (REDIS_URL,
 * or REDIS_SENTINELS and REDIS_MASTER_NAME), under a prefix of their own. Nodes are stopped by PID
 * (SIGKILL) and waited for; nothing else is touched.
 */
export class Nodes {
  readonly prefix = `mn-${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<string, ChildServer>();

  /** `env`: the Redis to use and anything else every node gets (per-node extras go to spawn()). */
  constructor(private readonly env: Record<string, string>) {}

  /** Starts a node (again) under this name; resolves once it serves. */
  async spawn(name: string, env: Record<string, string> = {}): Promise<ChildServer> {
    if (this.running.has(name)) throw new Error(`node ${name} is already running`);
    const server = await spawnServer(
      { REDIS_PREFIX: this.prefix, NODE_NAME: name, ...this.env, ...env },
      30_000,
    );
    this.running.set(name, server);
    return server;
  }

  get names(): string[] {
    return [...this.running.keys()];
  }

  node(name: string): ChildServer {
    const server = this.running.get(name);
    if (server === undefined) throw new Error(`node ${name} is not running`);
    return server;
  }

  url(name: string): string {
    return this.node(name).url;
  }

  /** The host:port a node listens on, as /v1/status/peers names it. */
  address(name: string): string {
    return new URL(this.url(name)).host;
  }

  /** SIGTERM by PID (a graceful shutdown), then waits until the process is gone. */
  async stop(name: string): Promise<number | string> {
    const server = this.node(name);
    this.running.delete(name);
    if (server.process.pid !== undefined) process.kill(server.process.pid, 'SIGTERM');
    return server.exited;
  }

  /** kill -9 by PID, then waits until the process is gone. */
  async kill(name: string): Promise<void> {
    const server = this.node(name);
    this.running.delete(name);
    if (server.process.pid !== undefined) process.kill(server.process.pid, 'SIGKILL');
    await server.exited;
  }

  async status(name: string): Promise<NodeStatus> {
    const response = await fetch(`${this.url(name)}/v1/agent/self?digest`);
    if (!response.ok) throw new Error(`agent/self on ${name}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { Switchboard: NodeStatus }).Switchboard;
  }

  /**
   * Waits until every running node has applied the whole log (the same index, no lag) and
   * returns their statuses as read at that moment, digests included. Call it once writes have
   * stopped: a `?consistent` read on each node is the wait (it returns once that node applied
   * everything in the log), the status poll only confirms it.
   */
  async converged(timeoutMs = 20_000): Promise<NodeStatus[]> {
    let statuses: NodeStatus[] = [];
    await waitFor(
      async () => {
        const reads = await Promise.all(this.names.map((name) => fetch(`${this.url(name)}/v1/kv/converged-probe?consistent`)));
        await Promise.all(reads.map((read) => read.arrayBuffer()));
        if (reads.some((read) => read.status !== 404)) return false; // 503 while a node resyncs
        statuses = await Promise.all(this.names.map((name) => this.status(name)));
        const first = statuses[0];
        return first !== undefined && first.LogIndex !== null && statuses.every((s) => s.LogIndex === first.LogIndex && s.AppliedIndex === first.LogIndex);
      },
      timeoutMs,
      `nodes ${this.names.join(', ')} applying the whole log`,
    );
    return statuses;
  }

  /** Kills every node by PID. */
  async dispose(): Promise<void> {
    await Promise.all(this.names.map((name) => this.kill(name)));
  }
}

/** Nodes sharing one private redis-server of their own. */
export class Cluster extends Nodes {
  private constructor(
    readonly redis: RedisServer,
    env: Record<string, string>,
  ) {
    super({ REDIS_URL: redis.url, ...env });
  }

  static async start(names: readonly string[], options: ClusterOptions = {}): Promise<Cluster> {
    const redis = await startRedisServer({ args: options.redis ?? [] });
    const cluster = new Cluster(redis, options.env ?? {});
    try {
      await Promise.all(names.map((name) => cluster.spawn(name)));
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** Kills every node by PID, then stops and deletes the private Redis. */
  override async dispose(): Promise<void> {
    await super.dispose();
    await this.redis.dispose();
  }
}
