/**
 * The values the state machine stores and emits. Indexes are log sequence numbers (`seq`):
 * CreateIndex, ModifyIndex, LockIndex, X-Consul-Index and history all speak the same number.
 * Flags are an opaque uint64 kept exact as a bigint.
 */
export interface KvEntry {
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  /** seq of the write that created the key; preserved across updates. */
  readonly createIndex: number;
  /** seq of the last write that changed the entry; monotonically increases. */
  readonly modifyIndex: number;
  /** Number of acquisitions by a new holder: the fencing token. */
  readonly lockIndex: number;
  /** Session holding the lock, if any. */
  readonly session?: string;
}

export type ChangeType = 'put' | 'delete';

/**
 * One change to one key. A log entry yields zero or more events, all with the entry's seq as
 * `index`; a delete event carries the deleted key with `modifyIndex` = the delete's seq, an empty
 * value and the deleted entry's CreateIndex/LockIndex. `prev` is the entry before the change.
 */
export interface ChangeEvent {
  readonly index: number;
  readonly type: ChangeType;
  readonly key: string;
  readonly entry: KvEntry;
  readonly prev?: KvEntry;
}

/** One retained version of a key, newest first in `versions()`. */
export interface KvVersion {
  readonly modifyIndex: number;
  readonly value: Buffer;
  readonly flags: bigint;
}
