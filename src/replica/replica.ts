import { Logger } from '@nestjs/common';
import type { Command, CommandResult, LogEntry } from '../core/commands.js';
import type { ApplyOutcome } from '../core/state-machine.js';
import { StateMachine } from '../core/state-machine.js';
import type { ReplicatedLog } from '../log/replicated-log.js';

export interface ReplicaOptions {
  readonly nodeName: string;
  readonly historySize: number;
  readonly versionsPerKey: number;
  readonly snapshotEvery: number;
}

export type AppliedListener = (entry: LogEntry, outcome: ApplyOutcome) => void;

interface PendingProposal {
  resolve(result: CommandResult): void;
  reject(error: unknown): void;
}

/**
 * One replica of the state: it owns the state machine and the log, applies every log entry in
 * order, and turns a write into `append → wait until applied here → apply's result`. Reads go to
 * `state` directly; callers never mutate it.
 */
export class Replica {
  private readonly logger = new Logger(Replica.name);
  private machine: StateMachine;
  private readonly listeners: AppliedListener[] = [];
  private readonly pending = new Map<number, PendingProposal>();
  private nextProposal = 1;
  private snapshotSeq = 0;
  private snapshotting = false;
  /** Wall-clock ms before which no new snapshot starts (see maybeSnapshot). */
  private nextSnapshotAt = 0;

  constructor(
    private readonly log: ReplicatedLog,
    private readonly options: ReplicaOptions,
  ) {
    this.machine = new StateMachine(this.machineOptions());
  }

  /** Loads the newest snapshot, replays the log after it, then follows new entries. */
  async start(): Promise<void> {
    const recovery = await this.log.open();
    if (recovery.snapshot) {
      this.machine = StateMachine.restore(recovery.snapshot.data, this.machineOptions());
      this.snapshotSeq = recovery.snapshot.seq;
    }
    for (const entry of recovery.entries) this.machine.apply(entry);
    this.log.onEntries((entries) => this.applyAll(entries));
    if (this.machine.index === 0) await this.propose({ type: 'noop' });
    this.logger.log(
      `recovered to index ${this.machine.index} (snapshot at ${this.snapshotSeq}, ${recovery.entries.length} entries replayed)`,
    );
  }

  async stop(): Promise<void> {
    await this.log.close();
  }

  get state(): StateMachine {
    return this.machine;
  }

  onApplied(listener: AppliedListener): void {
    this.listeners.push(listener);
  }

  /** Appends the command and resolves with the result apply() computed for it on this node. */
  propose(command: Command): Promise<CommandResult> {
    const proposal = this.nextProposal++;
    return new Promise<CommandResult>((resolve, reject) => {
      this.pending.set(proposal, { resolve, reject });
      this.log.append({ node: this.options.nodeName, proposal, command }).catch((error: unknown) => {
        if (this.pending.delete(proposal)) reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  private applyAll(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      const outcome = this.machine.apply(entry);
      if (entry.node === this.options.nodeName) {
        const waiting = this.pending.get(entry.proposal);
        if (waiting) {
          this.pending.delete(entry.proposal);
          waiting.resolve(outcome.result);
        }
      }
      for (const listener of this.listeners) listener(entry, outcome);
    }
    this.maybeSnapshot();
  }

  /**
   * Snapshots every `snapshotEvery` entries, but serializing blocks the event loop for a time
   * that grows with the state (history and versions included), so after a snapshot that took
   * d ms the next one waits at least 19·d: snapshotting never takes more than ~5% of the time,
   * however fast writes arrive. The log just grows a little longer in between.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.machine.index - this.snapshotSeq < this.options.snapshotEvery) return;
    const started = Date.now();
    if (started < this.nextSnapshotAt) return;
    this.snapshotting = true;
    const seq = this.machine.index;
    const data = this.machine.serialize();
    this.nextSnapshotAt = Date.now() + 19 * (Date.now() - started);
    this.log
      .saveSnapshot(seq, data)
      .then(() => {
        this.snapshotSeq = seq;
        this.logger.log(`snapshot at index ${seq} (${data.length} bytes)`);
      })
      .catch((error: unknown) => this.logger.error(`snapshot at index ${seq} failed: ${String(error)}`))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  private machineOptions(): { historyLimit: number; versionsPerKey: number } {
    return { historyLimit: this.options.historySize, versionsPerKey: this.options.versionsPerKey };
  }
}
