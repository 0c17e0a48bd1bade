import type { Command, CommandResult } from './commands.js';
import { applyKvDelete, applyKvDeleteTree, applyKvLock, applyKvRollback, applyKvSet, applyKvUnlock } from './kv-commands.js';
import type { WriteBatch } from './kv-writes.js';
import { applySessionCreate, applySessionDestroy, applySessionRenew } from './session-commands.js';
import type { Store } from './store.js';
import { applyTxn } from './txn.js';

/**
 * Routes a command to its handler by `type`. A type this build does not know is a hard error, not a
 * no-op: a replica that skipped it would silently diverge from the ones that understood it.
 */
export function applyCommand(store: Store, batch: WriteBatch, command: Command): CommandResult {
  switch (command.type) {
    case 'kv.set':
      return applyKvSet(store, batch, command);
    case 'kv.delete':
      return applyKvDelete(store, batch, command);
    case 'kv.delete-tree':
      return applyKvDeleteTree(store, batch, command);
    case 'kv.rollback':
      return applyKvRollback(store, batch, command);
    case 'kv.lock':
      return applyKvLock(store, batch, command);
    case 'kv.unlock':
      return applyKvUnlock(store, batch, command);
    case 'txn':
      return applyTxn(store, batch, command);
    case 'session.create':
      return applySessionCreate(store, batch, command);
    case 'session.renew':
      return applySessionRenew(store, batch, command);
    case 'session.destroy':
      return applySessionDestroy(store, batch, command);
    case 'session.rearm':
      store.sessions.rearm(batch.time);
      return { ok: true };
    // Overdue sessions expire before every entry's command; this one only brings the time.
    case 'session.expire':
    case 'noop':
      return { ok: true };
    default:
      return unknownCommand(command);
  }
}

function unknownCommand(command: never): never {
  const type: unknown = (command as { type?: unknown } | null)?.type;
  throw new Error(`unknown command type ${JSON.stringify(type) ?? String(type)}`);
}
