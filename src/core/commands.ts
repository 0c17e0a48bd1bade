import type { KvEntry } from './entry.js';
import type { Session } from './sessions.js';

/**
 * Commands are what the log carries. Everything non-deterministic (ids, time) is decided before
 * a command is appended; apply() only reads the command and the entry's seq and time.
 *
 * CAS rules (Consul `kvsSetCASTxn`, `KVSDeleteCAS`), one table:
 *
 * | command      | key absent          | present, ModifyIndex == index | present, ModifyIndex != index |
 * |--------------|---------------------|-------------------------------|-------------------------------|
 * | cas index=0  | set → true          | false                         | false                         |
 * | cas index>0  | false               | set → true                    | false                         |
 * | delete-cas   | true (nothing to do)| delete → true                 | false (also for index=0)      |
 *
 * A mismatch is a normal `false` result, never an error, and it changes nothing.
 */
export interface KvSetCommand {
  readonly type: 'kv.set';
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  /** When present, set only per the CAS table above. */
  readonly cas?: number;
}

export interface KvDeleteCommand {
  readonly type: 'kv.delete';
  readonly key: string;
  /** When present, delete only per the CAS table above. */
  readonly cas?: number;
}

export interface KvDeleteTreeCommand {
  readonly type: 'kv.delete-tree';
  /** Plain string prefix; "" deletes the whole store. */
  readonly prefix: string;
}

/** Writes a retained version's value and flags back as a new version. */
export interface KvRollbackCommand {
  readonly type: 'kv.rollback';
  readonly key: string;
  /** ModifyIndex of the version to restore. */
  readonly version: number;
  readonly cas?: number;
}

/**
 * Changes nothing but consumes a seq. A new log starts with one, so the first user write gets
 * index 2: an empty store reports index 1 (never 0), and a client blocking on that index must
 * see the first write as a change (Consul's first user-visible index is never 1 either).
 */
export interface NoopCommand {
  readonly type: 'noop';
}

/**
 * `?acquire=`: take the lock on key for session and write value/flags (API.md §5.3.3). A new
 * holder increments LockIndex (the fencing token); the holder re-acquiring keeps it.
 */
export interface KvLockCommand {
  readonly type: 'kv.lock';
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  readonly session: string;
}

/** `?release=`: drop session's lock on key and write value/flags (API.md §5.3.4). */
export interface KvUnlockCommand {
  readonly type: 'kv.unlock';
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  readonly session: string;
}

export type SessionBehavior = 'release' | 'delete';

/** A Consul service check a session is tied to (`ServiceChecks`). */
export interface ServiceCheckRef {
  readonly id: string;
  readonly namespace: string;
}

/**
 * Creates a session. The id is minted by the proposer (apply never draws randomness); the TTL
 * multiplier is folded into `expiryMs` by the proposer too, so every replica computes the same
 * deadline whatever its own configuration says.
 */
export interface SessionCreateCommand {
  readonly type: 'session.create';
  readonly id: string;
  readonly name: string;
  readonly node: string;
  /** The TTL exactly as the client wrote it (`"15.0s"`), "" for none; echoed back by reads. */
  readonly ttl: string;
  /** TTL in ms, 0 for none. */
  readonly ttlMs: number;
  /** ttlMs × SESSION_TTL_MULTIPLIER: the session is invalid once log time passes renew + this. */
  readonly expiryMs: number;
  readonly behavior: SessionBehavior;
  /** Already capped and converted; 0 disables lock-delay. */
  readonly lockDelayMs: number;
  readonly nodeChecks: readonly string[] | null;
  readonly serviceChecks: readonly ServiceCheckRef[] | null;
}

/** Restarts the session's expiry window at the entry's time. */
export interface SessionRenewCommand {
  readonly type: 'session.renew';
  readonly id: string;
}

/** Invalidates the session now: its locks are released or its keys deleted per its Behavior. */
export interface SessionDestroyCommand {
  readonly type: 'session.destroy';
  readonly id: string;
}

/**
 * Carries nothing but its entry's time: every entry first invalidates the sessions whose
 * deadline that time has passed, so a node's expiry timer only has to get an entry into the log.
 * Duplicates from several nodes are harmless.
 */
export interface SessionExpireCommand {
  readonly type: 'session.expire';
}

/**
 * After a full outage nobody could renew: moves every session deadline to this entry's time +
 * its expiry window instead of expiring them (DESIGN.md §2, Consul re-arms on leader change).
 */
export interface SessionRearmCommand {
  readonly type: 'session.rearm';
}

/** Consul's KV txn verbs (API.md §8.3). */
export type TxnVerb =
  | 'set'
  | 'cas'
  | 'lock'
  | 'unlock'
  | 'get'
  | 'get-or-empty'
  | 'get-tree'
  | 'check-index'
  | 'check-session'
  | 'check-not-exists'
  | 'delete'
  | 'delete-tree'
  | 'delete-cas';

export const TXN_WRITE_VERBS: ReadonlySet<TxnVerb> = new Set(['set', 'cas', 'lock', 'unlock', 'delete', 'delete-tree', 'delete-cas']);

/** One KV operation of a txn, already decoded (value bytes, exact flags). */
export interface TxnOp {
  readonly verb: TxnVerb;
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  readonly index: number;
  readonly session: string;
}

/** All operations in order as one entry: every write shares its seq, any failure applies none. */
export interface TxnCommand {
  readonly type: 'txn';
  readonly ops: readonly TxnOp[];
}

export type Command =
  | KvSetCommand
  | KvDeleteCommand
  | KvDeleteTreeCommand
  | KvRollbackCommand
  | KvLockCommand
  | KvUnlockCommand
  | SessionCreateCommand
  | SessionRenewCommand
  | SessionDestroyCommand
  | SessionExpireCommand
  | SessionRearmCommand
  | TxnCommand
  | NoopCommand;

/**
 * What apply() answers for a command. `ok` is the Consul `true`/`false` body; `missing` names
 * what did not exist when the command needed it (a rollback to an unknown version), so the
 * HTTP layer can answer 404 with a reason.
 */
export interface CommandResult {
  readonly ok: boolean;
  readonly missing?: string;
  /** A lock command named a session that does not exist (or no longer does): Consul's 500 body. */
  readonly invalidSession?: string;
  /** What a txn returned: its results when it committed, its errors when it rolled back. */
  readonly txn?: TxnOutcome;
  /** The session a create or renew left behind. */
  readonly session?: Session;
}

/** One `Results` item: the entry as the op left or read it; `withValue` for the read verbs. */
export interface TxnResultEntry {
  readonly entry: KvEntry;
  readonly withValue: boolean;
}

export interface TxnError {
  readonly opIndex: number;
  readonly what: string;
}

export type TxnOutcome =
  | { readonly committed: true; readonly results: readonly TxnResultEntry[] }
  | { readonly committed: false; readonly errors: readonly TxnError[] };

/**
 * One record of the replicated log. `seq` is dense (1, 2, 3 …), `time` is milliseconds taken by
 * the log at append (monotonic), `node` and `proposal` identify the proposer so it can match the
 * applied result to the request that is waiting for it.
 */
export interface LogEntry {
  readonly seq: number;
  readonly time: number;
  readonly node: string;
  readonly proposal: number;
  readonly command: Command;
}
