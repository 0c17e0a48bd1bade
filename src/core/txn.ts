import type { CommandResult, TxnCommand, TxnError, TxnOp, TxnResultEntry } from './commands.js';
import { LiveKeys, TrialKeys, type KeyAccess } from './key-access.js';
import { casAllowsDelete, casAllowsSet, entryAfterSet, kvEntry } from './kv-writes.js';
import type { WriteBatch } from './kv-writes.js';
import { lockContext, lockKey, unlockKey, type LockContext, type LockRefusal } from './locks.js';
import type { Store } from './store.js';

export interface TxnRun {
  readonly results: TxnResultEntry[];
  readonly errors: TxnError[];
}

const EMPTY = Buffer.alloc(0);
const quoted = (text: string): string => JSON.stringify(text);

const LOCK_REFUSALS: Record<LockRefusal, (op: TxnOp) => string> = {
  'lock-delay': (op) => `failed to lock key ${quoted(op.key)} due to lock delay`,
  'missing-session': () => 'missing session',
  'invalid-session': (op) => `invalid session ${quoted(op.session)}`,
  held: (op) => `failed to lock key ${quoted(op.key)}, lock is already held`,
};

/**
 * All or nothing in one entry: the ops are tried against an overlay first, and only when every
 * one succeeds are they run again for real (same rules, same state, so the same outcome), with
 * every write at this entry's seq. A failed txn changes nothing.
 */
export function applyTxn(store: Store, batch: WriteBatch, command: TxnCommand): CommandResult {
  const context = lockContext(store, batch.seq, batch.time);
  const trial = runTxn(new TrialKeys(store.tree), context, command.ops);
  if (trial.errors.length > 0) return { ok: false, txn: { committed: false, errors: trial.errors } };
  const committed = runTxn(new LiveKeys(store, batch), context, command.ops);
  if (committed.errors.length > 0) throw new Error(`txn at seq ${batch.seq} failed on commit after its trial passed`);
  return { ok: true, txn: { committed: true, results: committed.results } };
}

/**
 * Tries a txn against the current state without changing it: the answer of a read-only txn,
 * and for a write txn the failures that no later entry can undo before it is appended. The
 * entry's time is unknown here, so lock-delay is left to apply.
 */
export function trialTxn(store: Store, seq: number, time: number, ops: readonly TxnOp[]): TxnRun {
  return runTxn(new TrialKeys(store.tree), lockContext(store, seq, time, true), ops);
}

/**
 * Runs a txn's KV operations in order (API.md §8.3): each sees the effects of the ones before
 * it, and like Consul it does not stop at the first failure, so every failing op is reported
 * (later ops then run against state that will be discarded). Results follow the request order
 * but are not aligned with it: deletes and check-not-exists add none, get-tree one per key.
 * Only the read verbs carry values. The caller decides whether anything is kept.
 */
export function runTxn(keys: KeyAccess, context: LockContext, ops: readonly TxnOp[]): TxnRun {
  const run: TxnRun = { results: [], errors: [] };
  ops.forEach((op, opIndex) => {
    const what = runOp(keys, context, op, run.results);
    if (what !== undefined) run.errors.push({ opIndex, what });
  });
  return run;
}

/** One op; returns the failure text, or undefined when it succeeded. */
function runOp(keys: KeyAccess, context: LockContext, op: TxnOp, results: TxnResultEntry[]): string | undefined {
  const { key } = op;
  const current = keys.get(key);
  const result = (withValue: boolean): undefined => {
    const entry = keys.get(key);
    if (entry !== undefined) results.push({ entry, withValue });
    return undefined;
  };
  switch (op.verb) {
    case 'set':
    case 'cas': {
      if (op.verb === 'cas' && !casAllowsSet(current, op.index)) return `failed to set key ${quoted(key)}, index is stale`;
      const next = entryAfterSet(current, key, op.value, op.flags, context.seq);
      if (next !== undefined) keys.put(next);
      return result(false);
    }
    case 'lock': {
      const refusal = lockKey(keys, context, key, op.value, op.flags, op.session);
      return refusal === undefined ? result(false) : LOCK_REFUSALS[refusal](op);
    }
    case 'unlock':
      if (op.session === '') return 'missing session';
      if (!unlockKey(keys, context.seq, key, op.value, op.flags, op.session)) {
        return `failed to unlock key ${quoted(key)}, lock isn't held, or is held by another session`;
      }
      return result(false);
    case 'get':
      if (current === undefined) return `key ${quoted(key)} doesn't exist`;
      return result(true);
    case 'get-or-empty':
      results.push({ entry: current ?? kvEntry(key, EMPTY, 0n, 0, 0, 0), withValue: true });
      return undefined;
    case 'get-tree':
      for (const entry of keys.withPrefix(key)) results.push({ entry, withValue: true });
      return undefined;
    case 'check-index':
      if (current === undefined) return `failed to check index, key ${quoted(key)} doesn't exist`;
      if (current.modifyIndex !== op.index) {
        return `failed index check for key ${quoted(key)}, current modify index ${current.modifyIndex} != ${op.index}`;
      }
      return result(false);
    case 'check-session':
      if (current === undefined) return `failed to check session, key ${quoted(key)} doesn't exist`;
      if ((current.session ?? '') !== op.session) {
        return `failed session check for key ${quoted(key)}, current session ${quoted(current.session ?? '')} != ${quoted(op.session)}`;
      }
      return result(false);
    case 'check-not-exists':
      return current === undefined ? undefined : `key ${quoted(key)} exists`;
    case 'delete':
      keys.delete(key);
      return undefined;
    case 'delete-tree':
      keys.deletePrefix(key);
      return undefined;
    case 'delete-cas':
      if (!casAllowsDelete(current, op.index)) return `failed to delete key ${quoted(key)}, index is stale`;
      keys.delete(key);
      return undefined;
  }
}
