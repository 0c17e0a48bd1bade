import { randomBytes } from 'node:crypto';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Command, CommandResult, LogEntry } from '../core/commands.js';
import type { ApplyOutcome } from '../core/state-machine.js';
import { StateMachine } from '../core/state-machine.js';
import { LogUnavailableError } from '../log/log-unavailable-error.js';
import type { LogHealth, LogMember, LogRecovery, ReplicatedLog } from '../log/replicated-log.js';

export interface ReplicaOptions {
  readonly nodeName: string;
  readonly historySize: number;
  readonly versionsPerKey: number;
  readonly snapshotEvery: number;
}

export type AppliedListener = (entry: LogEntry, outcome: ApplyOutcome) => void;
/** The state was replaced wholesale (the log's history changed); indexes may have gone backwards. */
export type ResetListener = () => void;

/** How long a node that found another node's snapshot in progress (or recent) waits to ask again. */
const SNAPSHOT_RECHECK_MS = 5000;

interface PendingProposal {
  resolve(result: CommandResult): void;
  reject(error: unknown): void;
}

/**
 * One replica of the state: it owns the state machine and the log, applies every log entry in
 * order, and turns a write into `append → wait until applied here → apply's result`. Reads go to
 * `state` directly; callers never mutate it.
 */
export class Replica implements OnApplicationShutdown {
  private readonly logger = new Logger(Replica.name);
  private machine: StateMachine;
  private readonly listeners: AppliedListener[] = [];
  private readonly resetListeners: ResetListener[] = [];
  private readonly pending = new Map<number, PendingProposal>();
  /** Reads waiting until this replica has applied a given seq, resolved in seq order. */
  private readonly indexWaiters: { seq: number; resolve(): void }[] = [];
  /**
   * Names this process's proposals in the log. The random part keeps a restarted node (or two
   * nodes misconfigured with one NODE_NAME) from taking another incarnation's entries for its own.
   */
  private readonly proposer: string;
  private nextProposal = 1;
  private advertised?: string;
  private snapshotSeq = 0;
  private snapshotting = false;
  /** Wall-clock ms before which no new snapshot starts (see maybeSnapshot). */
  private nextSnapshotAt = 0;

  constructor(
    private readonly log: ReplicatedLog,
    private readonly options: ReplicaOptions,
  ) {
    this.machine = new StateMachine(this.machineOptions());
    this.proposer = `${options.nodeName}#${randomBytes(4).toString('hex')}`;
  }

  /** Loads the newest snapshot, replays the log after it, then follows new entries. */
  async start(): Promise<void> {
    const recovery = await this.log.open();
    this.restore(recovery);
    this.log.onEntries((entries) => this.applyAll(entries));
    this.log.onReset((replacement, reason) => this.reset(replacement, reason));
    if (this.machine.index === 0) {
      // Nobody's write: replicas that do not confirm it (yet) are no reason to refuse to boot.
      await this.propose({ type: 'noop' }).catch((error: unknown) => {
        if (!(error instanceof LogUnavailableError && error.outcome === 'unreplicated')) throw error;
      });
    }
    this.logger.log(
      `recovered to index ${this.machine.index} (snapshot at ${this.snapshotSeq}, ${recovery.entries.length} entries replayed)`,
    );
  }

  /**
   * Nest calls this after the HTTP server closed (app.close(), SIGTERM): the log is released
   * last, so writes already accepted finish, and peers stop listing this node at once.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.log.close();
  }

  get state(): StateMachine {
    return this.machine;
  }

  /** Whether the log is reachable and how long since this node last heard from it. */
  health(): LogHealth {
    return this.log.health();
  }

  /** The log's current last seq (what a `?consistent` read would wait for). */
  logIndex(): Promise<number> {
    return this.log.readIndex();
  }

  /** Announces this node at its HTTP address (once it listens) to the nodes sharing the log. */
  advertise(address: string): void {
    this.advertised = address;
    this.log.advertise({ name: this.options.nodeName, address });
  }

  /** The address given to advertise(), if any yet. */
  get address(): string | undefined {
    return this.advertised;
  }

  /** The live nodes sharing the log, this one included once advertised. */
  members(): Promise<readonly LogMember[]> {
    return this.log.members();
  }

  onApplied(listener: AppliedListener): void {
    this.listeners.push(listener);
  }

  onReset(listener: ResetListener): void {
    this.resetListeners.push(listener);
  }

  /**
   * Linearizable read barrier (`?consistent`): learns the log's current last seq and waits until
   * this replica has applied it, so the read reflects every write acknowledged before it began.
   */
  async readBarrier(): Promise<void> {
    const seq = await this.log.readIndex();
    if (this.machine.index >= seq) return;
    await new Promise<void>((resolve) => {
      this.indexWaiters.push({ seq, resolve });
      this.indexWaiters.sort((a, b) => a.seq - b.seq);
    });
  }

  /**
   * Appends the command and resolves with the result apply() computed for it on this node, once
   * the append has resolved too: the Redis log's tailer can hand the entry over before the append
   * is confirmed (WAIT for replicas), and only the append says the write is as durable as asked.
   */
  propose(command: Command): Promise<CommandResult> {
    const proposal = this.nextProposal++;
    return new Promise<CommandResult>((resolve, reject) => {
      let appended = false;
      let applied: CommandResult | undefined;
      this.pending.set(proposal, {
        resolve: (result) => {
          if (appended) resolve(result);
          else applied = result;
        },
        reject,
      });
      this.log.append({ node: this.proposer, proposal, command }).then(
        () => {
          appended = true;
          if (applied !== undefined) resolve(applied);
        },
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          if (this.pending.delete(proposal)) reject(failure);
          else if (failure instanceof LogUnavailableError && failure.outcome === 'unreplicated') reject(failure);
          // Applied here, so it is in the log whatever the append could not confirm.
          else if (applied !== undefined) resolve(applied);
        },
      );
    });
  }

  private applyAll(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      const outcome = this.machine.apply(entry);
      if (entry.node === this.proposer) {
        const waiting = this.pending.get(entry.proposal);
        if (waiting) {
          this.pending.delete(entry.proposal);
          waiting.resolve(outcome.result);
        }
      }
      for (const listener of this.listeners) listener(entry, outcome);
    }
    this.releaseIndexWaiters();
    this.maybeSnapshot();
  }

  private releaseIndexWaiters(): void {
    while (this.indexWaiters.length > 0 && (this.indexWaiters[0]?.seq ?? Infinity) <= this.machine.index) {
      this.indexWaiters.shift()?.resolve();
    }
  }

  private restore(recovery: LogRecovery): void {
    this.machine = recovery.snapshot
      ? StateMachine.restore(recovery.snapshot.data, this.machineOptions())
      : new StateMachine(this.machineOptions());
    this.snapshotSeq = recovery.snapshot?.seq ?? 0;
    for (const entry of recovery.entries) this.machine.apply(entry);
  }

  /**
   * The log's history was replaced (Redis lost or swapped its data, or this node fell behind
   * the trimmed tail). The old state is dropped, never mixed with the new: proposals still
   * waiting can no longer be matched to an entry and fail, and every reader is told so that
   * blocking queries re-run against the new state (clients see the index go backwards and
   * reset, as Consul clients do).
   */
  private reset(recovery: LogRecovery, reason: string): void {
    const before = this.machine.index;
    this.restore(recovery);
    this.logger.error(`state replaced: ${reason} (index ${before} → ${this.machine.index})`);
    const failure = new LogUnavailableError(`the log was reset (${reason}); the write may not have been applied`, 'unknown');
    for (const waiting of this.pending.values()) waiting.reject(failure);
    this.pending.clear();
    // Their target seq belongs to the old history; the new state is the one to read.
    for (const waiter of this.indexWaiters.splice(0)) waiter.resolve();
    for (const listener of this.resetListeners) listener();
    // A log that lost everything restarts at seq 0: it gets its opening noop again (see NoopCommand).
    if (this.machine.index === 0) {
      this.propose({ type: 'noop' }).catch((error: unknown) => this.logger.warn(`could not reopen the log: ${String(error)}`));
    }
  }

  /**
   * Snapshots every `snapshotEvery` entries. The state is captured at once and encoded in small
   * steps with the event loop free in between, so requests keep flowing; encoding still costs
   * CPU in proportion to the state (history and versions included), so after one that took d ms
   * of work the next waits at least 19·d: snapshots never take more than ~5% of the CPU however
   * fast writes arrive. The log just grows a little longer in between. With several nodes on one
   * log, only a node that finds no snapshot in progress and none recent enough encodes one.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.machine.index - this.snapshotSeq < this.options.snapshotEvery) return;
    if (Date.now() < this.nextSnapshotAt) return;
    this.snapshotting = true;
    this.snapshot()
      .catch((error: unknown) => {
        this.logger.error(`snapshot failed: ${String(error)}`);
        this.nextSnapshotAt = Date.now() + SNAPSHOT_RECHECK_MS;
      })
      .finally(() => {
        this.snapshotting = false;
      });
  }

  private async snapshot(): Promise<void> {
    // Nodes sharing a log share its snapshots: encoding one while another node stores one, or
    // when it stored one recently, would cost this node the CPU for nothing.
    const stored = await this.log.snapshotStatus();
    this.snapshotSeq = Math.max(this.snapshotSeq, stored.seq);
    if (stored.inProgress || this.machine.index - this.snapshotSeq < this.options.snapshotEvery) {
      this.nextSnapshotAt = Date.now() + SNAPSHOT_RECHECK_MS;
      return;
    }
    const machine = this.machine;
    const seq = machine.index;
    const steps = machine.serializeSteps();
    let workMs = 0;
    for (;;) {
      const started = performance.now();
      const step = steps.next();
      workMs += performance.now() - started;
      if (step.done) {
        this.nextSnapshotAt = Date.now() + 19 * workMs;
        // A reset replaced the state meanwhile: this snapshot belongs to a history that is gone.
        if (machine !== this.machine) return;
        await this.log.saveSnapshot(seq, step.value);
        this.snapshotSeq = Math.max(this.snapshotSeq, seq);
        this.logger.log(`snapshot at index ${seq} (${step.value.length} bytes, ${Math.round(workMs)} ms of work)`);
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private machineOptions(): { historyLimit: number; versionsPerKey: number } {
    return { historyLimit: this.options.historySize, versionsPerKey: this.options.versionsPerKey };
  }
}
