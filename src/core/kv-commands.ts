import type {
  CommandResult,
  KvDeleteCommand,
  KvDeleteTreeCommand,
  KvLockCommand,
  KvRollbackCommand,
  KvSetCommand,
  KvUnlockCommand,
} from './commands.js';
import { LiveKeys } from './key-access.js';
import {
  casAllowsDelete,
  casAllowsSet,
  deleteKey,
  deletePrefix,
  setValue,
  type KvStore,
  type WriteBatch,
} from './kv-writes.js';
import { lockContext, lockKey, unlockKey } from './locks.js';
import type { Store } from './store.js';

/**
 * One function per KV command: check the command's condition against the current state, then
 * change keys only through the helpers in kv-writes.ts. A failed condition is a normal
 * `ok: false` result that changes nothing (the entry still consumes its seq).
 */

const OK: CommandResult = { ok: true };
const REFUSED: CommandResult = { ok: false };

export function applyKvSet(store: KvStore, batch: WriteBatch, command: KvSetCommand): CommandResult {
  if (command.cas !== undefined && !casAllowsSet(store.tree.get(command.key), command.cas)) return REFUSED;
  setValue(store, batch, command.key, command.value, command.flags);
  return OK;
}

export function applyKvDelete(store: KvStore, batch: WriteBatch, command: KvDeleteCommand): CommandResult {
  if (command.cas !== undefined && !casAllowsDelete(store.tree.get(command.key), command.cas)) return REFUSED;
  deleteKey(store, batch, command.key);
  return OK;
}

export function applyKvDeleteTree(store: KvStore, batch: WriteBatch, command: KvDeleteTreeCommand): CommandResult {
  deletePrefix(store, batch, command.prefix);
  return OK;
}

/**
 * Writes a retained version back as a new version, like a plain set (so it also recreates a
 * deleted key). The version is looked up first: an unknown version is "missing" whatever the
 * cas says, so the caller can answer 404 rather than a bare false.
 */
export function applyKvRollback(store: KvStore, batch: WriteBatch, command: KvRollbackCommand): CommandResult {
  const version = store.versions.find(command.key, command.version);
  if (version === undefined) {
    return { ok: false, missing: `version ${command.version} of key ${JSON.stringify(command.key)} is not retained` };
  }
  if (command.cas !== undefined && !casAllowsSet(store.tree.get(command.key), command.cas)) return REFUSED;
  setValue(store, batch, command.key, version.value, version.flags);
  return OK;
}

/**
 * `?acquire=`: lock-delay and a held lock are a plain `false`; a session that does not exist is
 * reported apart, because Consul answers it with a 500 clients match on (API.md §5.3.3).
 */
export function applyKvLock(store: Store, batch: WriteBatch, command: KvLockCommand): CommandResult {
  const context = lockContext(store, batch.seq, batch.time);
  const refusal = lockKey(new LiveKeys(store, batch), context, command.key, command.value, command.flags, command.session);
  if (refusal === 'invalid-session' || refusal === 'missing-session') return { ok: false, invalidSession: command.session };
  return refusal === undefined ? OK : REFUSED;
}

export function applyKvUnlock(store: Store, batch: WriteBatch, command: KvUnlockCommand): CommandResult {
  return unlockKey(new LiveKeys(store, batch), batch.seq, command.key, command.value, command.flags, command.session) ? OK : REFUSED;
}
