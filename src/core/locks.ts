import type { KeyAccess } from './key-access.js';
import { kvEntry } from './kv-writes.js';
import type { LockDelays, SessionTable } from './sessions.js';
import type { Store } from './store.js';

/** What a lock operation needs besides the keys: the entry being applied and the session state. */
export interface LockContext {
  readonly seq: number;
  readonly time: number;
  readonly sessions: SessionTable;
  readonly lockDelays: LockDelays;
  /**
   * A trial run before appending cannot know the entry's time, so it must not refuse on a
   * lock-delay that may have ended by then; apply decides with the real time.
   */
  readonly ignoreLockDelay: boolean;
}

export type LockRefusal = 'lock-delay' | 'missing-session' | 'invalid-session' | 'held';

/**
 * Acquire (API.md §5.3.3), checks in Consul's order: lock-delay, session, holder. A new holder
 * gets LockIndex + 1 (the fencing token); the holder re-acquiring only rewrites value and flags,
 * and identical content changes nothing. Returns why it refused, or undefined when it holds.
 */
export function lockKey(
  keys: KeyAccess,
  context: LockContext,
  key: string,
  value: Buffer,
  flags: bigint,
  session: string,
): LockRefusal | undefined {
  if (!context.ignoreLockDelay && context.lockDelays.blocks(key, context.time)) return 'lock-delay';
  if (session === '') return 'missing-session';
  if (context.sessions.get(session) === undefined) return 'invalid-session';
  const prev = keys.get(key);
  if (prev?.session !== undefined && prev.session !== session) return 'held';
  if (prev?.session === session) {
    if (prev.flags !== flags || !prev.value.equals(value)) {
      keys.put(kvEntry(key, value, flags, prev.createIndex, context.seq, prev.lockIndex, session));
    }
    return undefined;
  }
  keys.put(kvEntry(key, value, flags, prev?.createIndex ?? context.seq, context.seq, (prev?.lockIndex ?? 0) + 1, session));
  return undefined;
}

/**
 * Release (API.md §5.3.4): only the holder may; the value and flags sent become the key's, the
 * session is cleared and LockIndex stays. No lock-delay starts. False when not held by session.
 */
export function unlockKey(keys: KeyAccess, seq: number, key: string, value: Buffer, flags: bigint, session: string): boolean {
  const prev = keys.get(key);
  if (prev === undefined || prev.session !== session) return false;
  keys.put(kvEntry(key, value, flags, prev.createIndex, seq, prev.lockIndex));
  return true;
}

export function lockContext(store: Store, seq: number, time: number, ignoreLockDelay = false): LockContext {
  return { seq, time, sessions: store.sessions, lockDelays: store.lockDelays, ignoreLockDelay };
}
