import type { Command, KvDeleteCommand, KvRollbackCommand, KvSetCommand, LogEntry } from './commands.js';

/**
 * Builders for tests that drive the state machine with explicit entries, Consul kvs_test style:
 * `machine.apply(entry(5, set('a', 'x')))`. Pure, so any tier of tests may use them.
 */

export function entry(seq: number, command: Command, time = seq * 1000): LogEntry {
  return { seq, time, node: 'test', proposal: seq, command };
}

export function set(key: string, value: string | Buffer, options: { flags?: bigint; cas?: number } = {}): KvSetCommand {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const command: KvSetCommand = { type: 'kv.set', key, value: bytes, flags: options.flags ?? 0n };
  return options.cas === undefined ? command : { ...command, cas: options.cas };
}

export function del(key: string, cas?: number): KvDeleteCommand {
  return cas === undefined ? { type: 'kv.delete', key } : { type: 'kv.delete', key, cas };
}

export function delTree(prefix: string): Command {
  return { type: 'kv.delete-tree', prefix };
}

export function rollback(key: string, version: number, cas?: number): KvRollbackCommand {
  return cas === undefined ? { type: 'kv.rollback', key, version } : { type: 'kv.rollback', key, version, cas };
}

/** Applies commands as the entries after machine.index and returns their outcomes. */
export function applyAll<Outcome>(
  machine: { readonly index: number; apply(entry: LogEntry): Outcome },
  commands: readonly Command[],
): Outcome[] {
  return commands.map((command) => machine.apply(entry(machine.index + 1, command)));
}
