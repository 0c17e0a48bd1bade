import type {
  Command,
  KvDeleteCommand,
  KvLockCommand,
  KvRollbackCommand,
  KvSetCommand,
  KvUnlockCommand,
  LogEntry,
  SessionCreateCommand,
  TxnCommand,
  TxnOp,
  TxnVerb,
} from './commands.js';

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

export function createSession(
  id: string,
  options: { expiryMs?: number; behavior?: 'release' | 'delete'; lockDelayMs?: number } = {},
): SessionCreateCommand {
  const expiryMs = options.expiryMs ?? 0;
  return {
    type: 'session.create',
    id,
    name: '',
    node: 'node-1',
    ttl: expiryMs === 0 ? '' : `${expiryMs / 1000}s`,
    ttlMs: expiryMs,
    expiryMs,
    behavior: options.behavior ?? 'release',
    lockDelayMs: options.lockDelayMs ?? 0,
    nodeChecks: ['serfHealth'],
    serviceChecks: null,
  };
}

export function lock(key: string, session: string, value = ''): KvLockCommand {
  return { type: 'kv.lock', key, value: Buffer.from(value), flags: 0n, session };
}

export function unlock(key: string, session: string, value = ''): KvUnlockCommand {
  return { type: 'kv.unlock', key, value: Buffer.from(value), flags: 0n, session };
}

export function txnOp(verb: TxnVerb, key: string, fields: Partial<Omit<TxnOp, 'verb' | 'key' | 'value'>> & { value?: string } = {}): TxnOp {
  return {
    verb,
    key,
    value: Buffer.from(fields.value ?? ''),
    flags: fields.flags ?? 0n,
    index: fields.index ?? 0,
    session: fields.session ?? '',
  };
}

export function txn(...ops: TxnOp[]): TxnCommand {
  return { type: 'txn', ops };
}
