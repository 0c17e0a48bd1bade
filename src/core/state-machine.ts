import { applyCommand } from './command-dispatch.js';
import type { CommandResult, LogEntry, TxnOp } from './commands.js';
import type { ChangeEvent, KvEntry, KvVersion } from './entry.js';
import { EventRing } from './history.js';
import { listKeys } from './key-listing.js';
import { KvTree } from './kv-tree.js';
import type { WriteBatch } from './kv-writes.js';
import { expireOverdueSessions } from './session-commands.js';
import { LockDelays, SessionTable, type Session } from './sessions.js';
import { captureSnapshot, decodeSnapshot, encodeSnapshot, encodeSnapshotSteps } from './snapshot.js';
import type { Store } from './store.js';
import { Tombstones } from './tombstones.js';
import { trialTxn, type TxnRun } from './txn.js';
import { VersionStore } from './versions.js';

export { CompactedError } from './history.js';

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
  /** The entry created or removed a session (what blocking session reads wait for). */
  readonly sessionsChanged: boolean;
}

/**
 * The whole replicated state: KV tree, tombstones, history ring, per-key versions, sessions
 * and lock-delay windows. Deterministic: apply() depends only on the state and the entry (its
 * seq, time, command).
 *
 * Invariants:
 * - `index` is the seq of the last applied entry; entries are applied densely, each exactly
 *   once, and every entry consumes its seq whether or not it changed anything.
 * - tableIndex() is the seq of the last entry that changed a key; no-ops and refused
 *   conditions leave it alone.
 * - Compaction is driven by the history floor alone: when the ring drops events up to F, the
 *   tombstones with index ≤ F and the versions of their (deleted) keys go too. Nothing below
 *   the floor can be asked for exactly any more, so nothing there needs them.
 * - Before its own command, every entry (except a re-arm) invalidates the sessions whose
 *   deadline its time has passed, so expiry needs no clock here and happens at the same entry on
 *   every replica, however many nodes proposed it.
 * - serialize() is a function of the logical state: restore(serialize()) then applying the rest
 *   of the log gives the same bytes and results as replaying the whole log.
 */
export class StateMachine {
  private applied = 0;
  private lastTime = 0;
  private store: Store;
  private ring: EventRing;

  constructor(readonly options: StateMachineOptions) {
    requireCount('historyLimit', options.historyLimit);
    requireCount('versionsPerKey', options.versionsPerKey);
    this.store = {
      tree: new KvTree(),
      tombstones: new Tombstones(),
      versions: new VersionStore(options.versionsPerKey),
      sessions: new SessionTable(),
      lockDelays: new LockDelays(),
    };
    this.ring = new EventRing(options.historyLimit);
  }

  /** Rebuilds a machine from serialize() output; limits come from options, not the snapshot. */
  static restore(data: Buffer, options: StateMachineOptions): StateMachine {
    const machine = new StateMachine(options);
    const state = decodeSnapshot(data, options);
    machine.applied = state.index;
    machine.lastTime = state.time;
    machine.store = state.store;
    machine.ring = state.ring;
    // A no-op with the same options; with a smaller historyLimit the ring was trimmed above.
    machine.compact();
    return machine;
  }

  /** seq of the last applied entry (0 when empty). */
  get index(): number {
    return this.applied;
  }

  /** Log time (ms) of the last applied entry, 0 when empty. */
  get time(): number {
    return this.lastTime;
  }

  /** Applies the next entry; entry.seq must be index + 1 (throws otherwise). */
  apply(entry: LogEntry): ApplyOutcome {
    if (entry.seq !== this.applied + 1) {
      throw new Error(`entry seq ${entry.seq} does not follow applied index ${this.applied}`);
    }
    const batch: WriteBatch = { seq: entry.seq, time: entry.time, events: [] };
    if (entry.command.type !== 'session.rearm') expireOverdueSessions(this.store, batch);
    const result = applyCommand(this.store, batch, entry.command);
    this.applied = entry.seq;
    this.lastTime = entry.time;
    if (this.ring.append(entry.seq, batch.events)) this.compact();
    return { result, events: batch.events, sessionsChanged: this.store.sessions.tableIndex === entry.seq };
  }

  get(key: string): KvEntry | undefined {
    return this.store.tree.get(key);
  }

  /** Entries whose key starts with prefix, byte-wise sorted. */
  list(prefix: string): KvEntry[] {
    return [...this.store.tree.withPrefix(prefix)];
  }

  /** Keys under prefix, folded after the first separator past the prefix (API.md §5.2.3). */
  keys(prefix: string, separator?: string): string[] {
    return listKeys(this.store.tree.order, prefix, separator);
  }

  /** max(KV table index, tombstone table index); 0 if no key was ever changed. */
  tableIndex(): number {
    return Math.max(this.store.tree.tableIndex, this.store.tombstones.tableIndex);
  }

  /** The key's ModifyIndex, or the table index when the key is missing (API.md §3.2). */
  keyIndex(key: string): number {
    return this.store.tree.get(key)?.modifyIndex ?? this.tableIndex();
  }

  /**
   * True when a CAS on key expecting ModifyIndex `cas` (> 0) fails whatever is still in flight:
   * a key's ModifyIndex only grows, so once it is past `cas` no later state can match it. A
   * proposer may answer `false` from this state without appending, and the answer stays
   * linearizable even when this replica lags the log (the key is at least this far along).
   */
  casIsStale(key: string, cas: number): boolean {
    const current = this.store.tree.get(key);
    return cas > 0 && current !== undefined && current.modifyIndex > cas;
  }

  /**
   * API.md §3.2: max(ModifyIndex, tombstone index) under a non-empty prefix, or the table
   * index when that is 0 or the prefix is empty. It can move backwards only when compaction
   * reaps a tombstone that was the prefix's maximum; clients reset on that (§3.3).
   */
  prefixIndex(prefix: string): number {
    if (prefix === '') return this.tableIndex();
    const own = Math.max(this.store.tree.maxModifyIndex(prefix), this.store.tombstones.maxIndex(prefix));
    return own > 0 ? own : this.tableIndex();
  }

  /**
   * Retained events with index > afterIndex for key (or every key starting with it when
   * recurse), in apply order. Throws CompactedError(historyFloor + 1) when afterIndex <
   * historyFloor, because events in (afterIndex, historyFloor] may be gone. `limit` caps the
   * read at whole entries (at least `limit` events unless fewer exist; see EventRing.since).
   */
  history(afterIndex: number, key: string, recurse: boolean, limit?: number): ChangeEvent[] {
    return this.ring.since(afterIndex, key, recurse, limit);
  }

  /** The smallest afterIndex history() still answers exactly: the newest dropped event's index. */
  get historyFloor(): number {
    return this.ring.floor;
  }

  /** Retained versions of key, newest first (also for a deleted key until compaction). */
  versions(key: string): KvVersion[] {
    return this.store.versions.list(key);
  }

  session(id: string): Session | undefined {
    return this.store.sessions.get(id);
  }

  /** Every session, ordered by id. */
  sessions(): Session[] {
    return this.store.sessions.all();
  }

  /** seq of the last entry that created or removed a session (renewals do not count). */
  sessionsIndex(): number {
    return this.store.sessions.tableIndex;
  }

  /** Earliest session deadline in log time, undefined when no session has a TTL. */
  nextSessionDeadline(): number | undefined {
    return this.store.sessions.nextDeadline();
  }

  /** Shortest expiry window (TTL × multiplier) of any session, undefined when none has a TTL. */
  shortestSessionExpiryMs(): number | undefined {
    let shortest: number | undefined;
    for (const session of this.store.sessions.all()) {
      if (session.expiryMs > 0 && (shortest === undefined || session.expiryMs < shortest)) shortest = session.expiryMs;
    }
    return shortest;
  }

  /**
   * Runs a txn against the current state without changing anything (see trialTxn): the answer
   * to a read-only txn, or a write txn's failures that are certain before it is appended.
   */
  trialTxn(ops: readonly TxnOp[]): TxnRun {
    return trialTxn(this.store, this.applied + 1, this.lastTime, ops);
  }

  serialize(): Buffer {
    return encodeSnapshot(this.snapshotState());
  }

  /**
   * serialize() in steps: the state is captured now, the generator yields between bounded
   * pieces of encoding work and returns the same bytes serialize() would have given now, however
   * many entries are applied while it runs.
   */
  serializeSteps(): Generator<void, Buffer, void> {
    return encodeSnapshotSteps(captureSnapshot(this.snapshotState()));
  }

  private snapshotState(): { index: number; time: number; store: Store; ring: EventRing } {
    return { index: this.applied, time: this.lastTime, store: this.store, ring: this.ring };
  }

  private compact(): void {
    for (const key of this.store.tombstones.reap(this.ring.floor)) this.store.versions.drop(key);
  }
}

function requireCount(name: keyof StateMachineOptions, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`StateMachine option ${name} must be a non-negative integer, got ${String(value)}`);
  }
}
