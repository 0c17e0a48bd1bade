import { LogUnavailableError } from './log-unavailable-error.js';
import type { RedisConnection, RedisLogLogger } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { LogMember } from './replicated-log.js';

/**
 * Cluster membership by heartbeat: an advertised node keeps its key `member:<name>` (holding its
 * address) alive with a TTL, renewed every third of it, and keeps its name in the `members` set.
 * A node is live while its key exists, so a node that dies just stops renewing and Redis expires
 * it (on Redis's clock: node clocks need not agree). Listing prunes names whose key is gone.
 */
export interface MembershipOptions {
  readonly ttlMs: number;
  /** Deadline of every Redis call. */
  readonly timeoutMs: number;
  /** Written beside the address so that leaving deletes this incarnation's key, not a successor's. */
  readonly incarnation: string;
}

interface Heartbeat {
  readonly name: string;
  readonly value: string;
}

export class RedisMembership {
  private self?: Heartbeat;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly options: MembershipOptions,
    private readonly logger: RedisLogLogger,
  ) {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs < 3) throw new RangeError(`member TTL must be at least 3 ms, got ${options.ttlMs}`);
  }

  /** Starts (or, with a new address, updates) this node's heartbeat; the first beat goes out now. */
  advertise(member: LogMember): void {
    if (this.stopped) return;
    this.self = { name: member.name, value: JSON.stringify({ address: member.address, incarnation: this.options.incarnation }) };
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.beat(), Math.floor(this.options.ttlMs / 3));
      // Membership alone must not keep a process alive that is otherwise done.
      this.timer.unref();
    }
    this.beat();
  }

  /** Live members sorted by name; LogUnavailableError when Redis cannot be asked. */
  async list(): Promise<LogMember[]> {
    const { conn, keys } = this;
    const deadline = Date.now() + this.options.timeoutMs;
    try {
      const names = await conn.within(conn.client.smembers(keys.members), deadline);
      if (names.length === 0) return [];
      const values = await conn.within(conn.client.mget(...names.map((name) => keys.member(name))), deadline);
      const live: LogMember[] = [];
      const gone: string[] = [];
      for (const [i, name] of names.entries()) {
        const address = addressOf(values[i]);
        if (address === undefined) gone.push(name);
        else live.push({ name, address });
      }
      // Best effort: a name left behind is pruned by the next listing.
      await Promise.all(gone.map((name) => conn.within(conn.client.sbForgetMember(keys.members, keys.member(name), name, ''), deadline).catch(() => 0)));
      return live.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      throw new LogUnavailableError(`cannot list the cluster's members from Redis (${(error as Error).message})`, undefined, { cause: error });
    }
  }

  /** Stops the heartbeat and deletes this node's key, so peers stop listing it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating;
    const self = this.self;
    if (self === undefined || !this.conn.ready) return;
    const { conn, keys } = this;
    await conn
      .within(conn.client.sbForgetMember(keys.members, keys.member(self.name), self.name, self.value), Date.now() + this.options.timeoutMs)
      .catch(() => undefined); // it expires anyway
  }

  private beat(): void {
    const self = this.self;
    if (this.beating !== undefined || self === undefined || this.stopped) return;
    this.beating = this.renew(self).finally(() => {
      this.beating = undefined;
    });
  }

  private async renew({ name, value }: Heartbeat): Promise<void> {
    const { conn, keys } = this;
    try {
      const results = await conn.within(
        conn.client.pipeline().set(keys.member(name), value, 'PX', this.options.ttlMs).sadd(keys.members, name).exec(),
        Date.now() + this.options.timeoutMs,
      );
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
      if (this.failing) this.logger.log(`membership heartbeat renewed again for node ${name}`);
      this.failing = false;
    } catch (error) {
      // Said once per outage: the connection already reports its own state.
      if (!this.failing) this.logger.warn(`cannot renew the membership heartbeat of node ${name} (${(error as Error).message}); retrying`);
      this.failing = true;
    }
  }
}

function addressOf(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    const { address } = JSON.parse(value) as { address?: unknown };
    return typeof address === 'string' ? address : undefined;
  } catch {
    return undefined;
  }
}
