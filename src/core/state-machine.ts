import type { CommandResult, LogEntry } from './commands.js';
import type { ChangeEvent, KvEntry, KvVersion } from './entry.js';

export interface StateMachineOptions {
  /** Events kept in the history ring (default 100,000). */
  readonly historyLimit: number;
  /** Versions kept per key (default 20). */
  readonly versionsPerKey: number;
}

export interface ApplyOutcome {
  readonly result: CommandResult;
  /** In key order within the entry; all carry the entry's seq. Empty for no-ops and failed CAS. */
  readonly events: readonly ChangeEvent[];
}

/** Thrown by history reads below the retained floor (HTTP 410). */
export class CompactedError extends Error {
  constructor(readonly oldestIndex: number) {
    super(`history before index ${oldestIndex} has been compacted`);
    this.name = 'CompactedError';
  }
}

/**
 * The whole replicated state: KV tree, tombstones, history ring, per-key versions.
 * Deterministic: apply() depends only on the state and the entry (its seq, time, command).
 * TO BE IMPLEMENTED — see the contract on each member.
 */
export class StateMachine {
  constructor(readonly options: StateMachineOptions) {}

  /** seq of the last applied entry (0 when empty). */
  get index(): number {
    throw new Error('not implemented');
  }

  /** Applies the next entry; entry.seq must be index + 1 (throws otherwise). */
  apply(entry: LogEntry): ApplyOutcome {
    throw new Error(`not implemented ${entry.seq}`);
  }

  get(key: string): KvEntry | undefined {
    throw new Error(`not implemented ${key}`);
  }

  /** Entries whose key starts with prefix, byte-wise sorted. */
  list(prefix: string): KvEntry[] {
    throw new Error(`not implemented ${prefix}`);
  }
}
