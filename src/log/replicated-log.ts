import type { Command, LogEntry } from '../core/commands.js';

/** What a node asks the log to append; the log assigns seq and time. */
export interface Proposal {
  readonly node: string;
  readonly proposal: number;
  readonly command: Command;
}

export interface StoredSnapshot {
  /** The state serialized after applying every entry up to and including seq. */
  readonly seq: number;
  readonly data: Buffer;
}

export interface LogRecovery {
  readonly snapshot?: StoredSnapshot;
  /** Every durable entry after the snapshot (or from seq 1), in seq order, no gaps. */
  readonly entries: readonly LogEntry[];
}

export interface LogHealth {
  /** Whether the log's storage is reachable right now. */
  readonly connected: boolean;
  /** Milliseconds since this node last heard from the log's storage. */
  readonly lastContactMs: number;
}

/** What the log holds in the way of snapshots: asked before encoding one, which is costly. */
export interface SnapshotStatus {
  /** seq of the newest stored snapshot of the current history (0 when there is none). */
  readonly seq: number;
  /** Another node is storing one right now. */
  readonly inProgress: boolean;
}

export type ResetListener = (recovery: LogRecovery, reason: string) => void;

/** A live node of the cluster: its name and the HTTP address clients reach it at ("host:port"). */
export interface LogMember {
  readonly name: string;
  readonly address: string;
}

/**
 * The replicated log port: one totally ordered, durable sequence of entries. The file log
 * (embedded, one node) and the Redis log (any number of nodes) both pass the same contract suite.
 *
 * Contract:
 * - `open()` is called once, first; it returns the newest snapshot and the entries after it.
 * - After `open()`, the listener given to `onEntries` receives every entry appended from then on
 *   (by this node or any other), exactly once, in seq order, each only after it is durable.
 * - `append()` resolves with the entry (seq, time) only once it is durable; in the embedded log
 *   the listener has already received it by then, in the Redis log it may come later.
 * - seq is dense and starts at 1; `time` is milliseconds from the log's own clock and never
 *   goes backwards.
 * - `saveSnapshot(seq, data)` stores the snapshot atomically; entries at or below seq may then be
 *   dropped from storage, but a later `open()` still returns every entry after the snapshot.
 *   seq is at most the last durable seq (the caller snapshots state it has applied), and it
 *   may run while appends are in flight. `snapshotStatus()` tells a node whether one is worth
 *   encoding: nodes sharing a log share its snapshots, so one node's snapshot serves all.
 * - `close()` lets appends already made finish (resolve or reject), then releases the storage;
 *   later appends reject, and calling it again is harmless.
 * - `onReset` listeners hear that the log's history was replaced (epoch changed, seq went
 *   backwards, or this node fell behind the trimmed tail): they must drop all state and restore
 *   from the recovery given; `onEntries` then continues right after it. The embedded log never
 *   resets.
 * - `readIndex()` is the log's current last seq, for linearizable reads: the caller waits until
 *   it has applied that seq, then answers from its state.
 * - `health()` is synchronous and cheap, for status endpoints and X-Consul-LastContact.
 * - `advertise(member)` makes this node one of `members()` from then on (until `close()`), and
 *   may be called again when its address changes; `members()` lists the nodes sharing the log
 *   that are alive now, sorted by name (the embedded log: this node once advertised).
 */
export abstract class ReplicatedLog {
  abstract open(): Promise<LogRecovery>;
  abstract onEntries(listener: (entries: readonly LogEntry[]) => void): void;
  abstract append(proposal: Proposal): Promise<LogEntry>;
  abstract saveSnapshot(seq: number, data: Buffer): Promise<void>;
  abstract snapshotStatus(): Promise<SnapshotStatus>;
  abstract close(): Promise<void>;
  /**
   * The log's history was replaced (epoch changed, seq went backwards, or this node fell behind
   * the trimmed tail): drop all state and restore from this recovery.
   */
  abstract onReset(listener: ResetListener): void;
  /** The log's current last seq (linearizable reads wait until they have applied it). */
  abstract readIndex(): Promise<number>;
  abstract health(): LogHealth;
  /** Announces this node (name, advertised HTTP address) to the others sharing the log. */
  abstract advertise(member: LogMember): void;
  /** The nodes sharing this log that are alive now, sorted by name. */
  abstract members(): Promise<readonly LogMember[]>;
}
