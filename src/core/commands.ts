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

export type Command = KvSetCommand | KvDeleteCommand | KvDeleteTreeCommand | KvRollbackCommand | NoopCommand;

/**
 * What apply() answers for a command. `ok` is the Consul `true`/`false` body; `missing` names
 * what did not exist when the command needed it (a rollback to an unknown version), so the
 * HTTP layer can answer 404 with a reason.
 */
export interface CommandResult {
  readonly ok: boolean;
  readonly missing?: string;
}

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
