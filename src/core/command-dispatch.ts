import type { Command, CommandResult } from './commands.js';
import { applyKvDelete, applyKvDeleteTree, applyKvRollback, applyKvSet } from './kv-commands.js';
import type { KvStore, WriteBatch } from './kv-writes.js';

/**
 * Routes a command to its handler by `type`. New command families (sessions, txn) add a case
 * here and a handler file of their own. A type this build does not know is a hard error, not a
 * no-op: a replica that skipped it would silently diverge from the ones that understood it.
 */
export function applyCommand(store: KvStore, batch: WriteBatch, command: Command): CommandResult {
  switch (command.type) {
    case 'kv.set':
      return applyKvSet(store, batch, command);
    case 'kv.delete':
      return applyKvDelete(store, batch, command);
    case 'kv.delete-tree':
      return applyKvDeleteTree(store, batch, command);
    case 'kv.rollback':
      return applyKvRollback(store, batch, command);
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
