import type { KvStore } from './kv-writes.js';
import type { LockDelays, SessionTable } from './sessions.js';

/** Everything apply() changes: the KV parts plus sessions and their lock-delay windows. */
export interface Store extends KvStore {
  readonly sessions: SessionTable;
  readonly lockDelays: LockDelays;
}
