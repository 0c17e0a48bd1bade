import { randomBytes } from 'node:crypto';
import type { LogEntry } from '../core/commands.js';
import { LogUnavailableError } from './log-unavailable-error.js';
import { RedisAppender } from './redis-appender.js';
import { RedisConnection, type RedisLogLogger, type RedisTarget } from './redis-connection.js';
import { type RedisKeys, redisKeys } from './redis-keys.js';
import { RedisMembership } from './redis-membership.js';
import { loadLog } from './redis-recovery.js';
import { snapshotStatus, TRIM_STEP_ENTRIES, writeSnapshot } from './redis-snapshot.js';
import { RedisTailer, type TailPosition } from './redis-tailer.js';
import { type LogHealth, type LogMember, type LogRecovery, type Proposal, ReplicatedLog, type ResetListener, type SnapshotStatus } from './replicated-log.js';

export interface RedisLogOptions extends RedisTarget {
  /** Hash-tagged key prefix; clusters with different prefixes share a Redis independently. @default 'switchboard' */
  readonly prefix?: string;
  /** This node's name, for logs, connection names and the snapshot lock. */
  readonly nodeName: string;
  /** Every write settles (resolves or rejects) within this time. @default 5000 */
  readonly writeTimeoutMs?: number;
  /** Replicas that must acknowledge a write (Redis WAIT) before it resolves. @default 0 */
  readonly waitReplicas?: number;
  /** How long WAIT waits for them. @default 1000 */
  readonly waitTimeoutMs?: number;
  /** Entries a snapshot's trim always leaves in the stream, for lagging nodes. @default 100000 */
  readonly retainedEntries?: number;
  /** Entries one trim step removes at most (about); every node's appends wait for a step. @default 2000 */
  readonly trimStepEntries?: number;
  /** A node that has not renewed its membership heartbeat for this long is no longer listed. @default 10000 */
  readonly memberTtlMs?: number;
  /** @default console */
  readonly logger?: RedisLogLogger;
}

type Listener = (entries: readonly LogEntry[]) => void;
type Phase = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** How long an idle XREAD blocks: also how often an idle node hears from Redis. */
const BLOCK_MS = 1000;
/**
 * Entries one blocking read asks for. XREAD has no byte bound, and an entry holds at most one
 * request body (512 KB): 32 keep its reply within the 16 MB a bounded read returns. A node that
 * is behind reads with the bounded script instead (up to 1,000 entries a call).
 */
const FOLLOW_COUNT = 32;

/**
 * The distributed ReplicatedLog: one Redis stream shared by any number of nodes (layout:
 * redis-keys.ts; atomic steps: redis-scripts.ts). Writes go through RedisAppender on the command
 * connection; each node follows the stream with RedisTailer on a second, dedicated connection.
 *
 * Invariants: `epoch` is the dataset this node's state belongs to, and is changed only by a
 * reset, which the tailer runs between deliveries, so listeners see entries of one history at a
 * time and a reset in between; `knownSeq` (the highest seq seen) only grows, except at a reset.
 */
export class RedisLog extends ReplicatedLog {
  private readonly keys: RedisKeys;
  private readonly logger: RedisLogLogger;
  private readonly commands: RedisConnection;
  private readonly tail: RedisConnection;
  private readonly appender: RedisAppender;
  private readonly tailer: RedisTailer;
  private readonly membership: RedisMembership;
  private readonly incarnation = randomBytes(6).toString('hex');
  private readonly listeners: Listener[] = [];
  private readonly resetListeners: ResetListener[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly writeTimeoutMs: number;
  private readonly retainedEntries: number;
  private readonly trimStepEntries: number;
  private phase: Phase = 'new';
  private epoch = '';
  private knownSeq = 0;
  private snapshots: Promise<void> = Promise.resolve();
  private closing?: Promise<void>;

  constructor(private readonly options: RedisLogOptions) {
    super();
    this.keys = redisKeys(options.prefix ?? 'switchboard');
    this.logger = options.logger ?? console;
    this.writeTimeoutMs = positive('writeTimeoutMs', options.writeTimeoutMs ?? 5000);
    this.retainedEntries = wholeNumber('retainedEntries', options.retainedEntries ?? 100_000, 1);
    this.trimStepEntries = wholeNumber('trimStepEntries', options.trimStepEntries ?? TRIM_STEP_ENTRIES, 1);
    const waitReplicas = wholeNumber('waitReplicas', options.waitReplicas ?? 0, 0);
    const waitTimeoutMs = positive('waitTimeoutMs', options.waitTimeoutMs ?? 1000);
    const name = `switchboard:${options.nodeName}`;
    this.commands = new RedisConnection(options, `${name}:commands`, this.logger, this.writeTimeoutMs);
    this.tail = new RedisConnection(options, `${name}:tail`, this.logger, this.writeTimeoutMs);
    this.appender = new RedisAppender(
      this.commands,
      this.keys,
      { incarnation: this.incarnation, writeTimeoutMs: this.writeTimeoutMs, waitReplicas, waitTimeoutMs },
      {
        epoch: () => this.epoch,
        knownSeq: () => this.knownSeq,
        noteSeq: (seq) => this.noteSeq(seq),
        applied: () => this.tailer.applied,
        offer: (entries) => this.tailer.offer(entries),
      },
    );
    this.tailer = new RedisTailer(
      this.tail,
      this.keys,
      { blockMs: BLOCK_MS, timeoutMs: this.writeTimeoutMs, followCount: FOLLOW_COUNT },
      {
        epoch: () => this.epoch,
        deliver: (entries) => this.deliver(entries),
        ownProposal: (writer) => this.appender.takeUnread(writer),
        whileAppendsCarryTheLog: () => this.appender.whileRepliesCarryTheLog(),
        reset: (reason) => this.reset(reason),
      },
      this.logger,
    );
    this.membership = new RedisMembership(
      this.commands,
      this.keys,
      { ttlMs: positive('memberTtlMs', options.memberTtlMs ?? 10_000), timeoutMs: this.writeTimeoutMs, incarnation: this.incarnation },
      this.logger,
    );
  }

  override async open(): Promise<LogRecovery> {
    if (this.phase !== 'new') throw new Error('RedisLog.open() may be called only once');
    this.phase = 'opening';
    try {
      this.commands.connect();
      this.tail.connect();
      const deadline = Date.now() + this.writeTimeoutMs;
      if (!(await this.commands.whenReady(deadline)) || !(await this.tail.whenReady(deadline))) {
        // A refused connection and an untrusted TLS certificate look alike from here: the cause is what the operator needs.
        const cause = this.commands.lastError ?? this.tail.lastError;
        throw new LogUnavailableError(`cannot open the log: no connection to Redis within ${this.writeTimeoutMs} ms${cause === undefined ? '' : ` (last error: ${cause})`}`);
      }
      const loaded = await loadLog(this.commands, this.keys, this.writeTimeoutMs);
      this.epoch = loaded.epoch;
      this.knownSeq = loaded.lastSeq;
      if (loaded.createdEpoch) this.logger.log(`created a new log (epoch ${loaded.epoch}) under prefix ${this.keys.log}`);
      this.logger.log(
        `log opened (epoch ${loaded.epoch}): snapshot at seq ${loaded.recovery.snapshot?.seq ?? 0}, ${loaded.recovery.entries.length} entries after it, next seq ${loaded.lastSeq + 1}`,
      );
      // Safe to start before the caller registers its listener: the first delivery needs a
      // network round trip, and the caller's continuation after `await open()` runs first.
      this.tailer.start(position(loaded.lastSeq, loaded.lastWriter));
      this.phase = 'open';
      return loaded.recovery;
    } catch (error) {
      this.phase = 'closed';
      await Promise.all([this.tailer.stop(), this.commands.close(false), this.tail.close(false)]);
      throw error;
    }
  }

  override onEntries(listener: Listener): void {
    this.listeners.push(listener);
  }

  override onReset(listener: ResetListener): void {
    this.resetListeners.push(listener);
  }

  override append(proposal: Proposal): Promise<LogEntry> {
    if (this.phase !== 'open') return Promise.reject(new Error(`cannot append: the Redis log is ${this.phase}`));
    const appended = this.appender.append(proposal);
    this.inFlight.add(appended);
    const forget = (): boolean => this.inFlight.delete(appended);
    appended.then(forget, forget);
    return appended;
  }

  /**
   * One node at a time stores a snapshot; a node that finds the lock taken, or a snapshot at this
   * seq or later already stored, does nothing. Entries up to seq may then be trimmed, but never
   * the last `retainedEntries`.
   */
  override saveSnapshot(seq: number, data: Buffer): Promise<void> {
    if (this.phase !== 'open') return Promise.reject(new Error(`cannot save a snapshot: the Redis log is ${this.phase}`));
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new RangeError(`snapshot seq must be a whole number >= 0, got ${seq}`));
    const run = this.snapshots.then(() => this.storeSnapshot(seq, data));
    this.snapshots = run.then(noop, noop);
    return run;
  }

  override snapshotStatus(): Promise<SnapshotStatus> {
    if (this.phase !== 'open') return Promise.reject(new Error(`cannot read the snapshot status: the Redis log is ${this.phase}`));
    return snapshotStatus(this.commands, this.keys, this.epoch, this.writeTimeoutMs);
  }

  override async readIndex(): Promise<number> {
    if (this.phase !== 'open') throw new Error(`cannot read the index: the Redis log is ${this.phase}`);
    const deadline = Date.now() + this.writeTimeoutMs;
    if (!this.commands.ready && !(await this.commands.whenReady(deadline))) {
      throw new LogUnavailableError(`Redis is unreachable: no connection within ${this.writeTimeoutMs} ms`);
    }
    let epoch: string | null | undefined;
    let seq: string | null | undefined;
    try {
      [epoch, seq] = await this.commands.within(this.commands.client.mget(this.keys.epoch, this.keys.seq), deadline);
    } catch (error) {
      throw new LogUnavailableError(`cannot read the log's index from Redis (${(error as Error).message})`, undefined, { cause: error });
    }
    if (epoch !== this.epoch) throw new LogUnavailableError("the log's history was replaced and this node is resyncing");
    return Number(seq ?? 0);
  }

  override health(): LogHealth {
    const lastContact = Math.max(this.commands.lastContact, this.tail.lastContact);
    return { connected: this.commands.ready && this.tail.ready, lastContactMs: Math.max(0, Date.now() - lastContact) };
  }

  override advertise(member: LogMember): void {
    if (this.phase !== 'open') throw new Error(`cannot advertise this node: the Redis log is ${this.phase}`);
    this.membership.advertise(member);
  }

  override members(): Promise<readonly LogMember[]> {
    if (this.phase !== 'open') return Promise.reject(new Error(`cannot list members: the Redis log is ${this.phase}`));
    // Status probes answer at once during an outage rather than after the write timeout.
    if (!this.commands.ready) return Promise.reject(new LogUnavailableError('Redis is unreachable: cannot list the members'));
    return this.membership.list();
  }

  override close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async storeSnapshot(seq: number, data: Buffer): Promise<void> {
    const result = await writeSnapshot(this.commands, this.keys, {
      seq,
      data,
      epoch: this.epoch,
      retainedEntries: this.retainedEntries,
      trimStepEntries: this.trimStepEntries,
      lockValue: `${this.options.nodeName}/${this.incarnation}`,
      timeoutMs: this.writeTimeoutMs,
    });
    if (result.outcome === 'stored') {
      this.logger.log(`stored the snapshot at seq ${seq} (${data.length} bytes), trimmed ${result.trimmed} entries`);
      if (result.trimError !== undefined) {
        this.logger.warn(`trimming the log below the snapshot at seq ${seq} stopped (${result.trimError}); the next snapshot trims the rest`);
      }
    } else {
      this.logger.log(`skipped the snapshot at seq ${seq}: ${SKIPPED[result.outcome]}`);
    }
  }

  private noteSeq(seq: number): void {
    if (seq > this.knownSeq) this.knownSeq = seq;
  }

  private deliver(entries: readonly LogEntry[]): void {
    const last = entries.at(-1);
    if (last !== undefined) this.noteSeq(last.seq);
    for (const listener of this.listeners) {
      try {
        listener(entries);
      } catch (error) {
        // The entries are in the log whatever a listener does; its bug must not stall the tail.
        this.logger.warn(`an onEntries listener threw: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
  }

  /** Run by the tailer between deliveries, after it logged what happened. */
  private async reset(reason: string): Promise<TailPosition> {
    const loaded = await loadLog(this.tail, this.keys, this.writeTimeoutMs);
    if (loaded.epoch !== this.epoch) {
      this.logger.warn(`continuing on ${loaded.createdEpoch ? 'a new' : 'the current'} epoch ${loaded.epoch} (was ${this.epoch})`);
    }
    this.epoch = loaded.epoch;
    this.knownSeq = loaded.lastSeq;
    this.appender.forgetUnread();
    if (this.resetListeners.length === 0) this.logger.error('no onReset listener: this node keeps state from a history that no longer exists');
    for (const listener of this.resetListeners) {
      try {
        listener(loaded.recovery, reason);
      } catch (error) {
        this.logger.error(`an onReset listener threw: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
    return position(loaded.lastSeq, loaded.lastWriter);
  }

  private async shutdown(): Promise<void> {
    if (this.phase !== 'open') {
      this.phase = 'closed';
      await Promise.all([this.commands.close(false), this.tail.close(false)]);
      return;
    }
    this.phase = 'closing';
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([this.snapshots, this.membership.stop()]);
    const tailing = this.tailer.stop();
    await this.tail.close(false);
    await tailing;
    await this.commands.close();
    this.phase = 'closed';
  }
}

const SKIPPED = {
  locked: 'another node is storing one',
  stale: 'a snapshot at that seq or later is already stored',
  changed: 'another node switched the snapshot meanwhile',
} as const;

function position(seq: number, lastWriter: string | undefined): TailPosition {
  return lastWriter === undefined ? { seq } : { seq, lastWriter };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Counts go into Redis commands (XTRIM's MINID and LIMIT, WAIT) that take whole numbers only. */
function wholeNumber(name: string, value: number, least: 0 | 1): number {
  if (!Number.isSafeInteger(value) || value < least) throw new RangeError(`${name} must be a whole number ${least === 1 ? '> 0' : '>= 0'}, got ${value}`);
  return value;
}

function noop(): void {}
