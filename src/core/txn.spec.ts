import { describe, expect, it } from '@jest/globals';
import type { Command, TxnOutcome } from './commands.js';
import { StateMachine } from './state-machine.js';
import { applyAll, createSession, entry, lock, set, txn, txnOp } from './testing.js';

const options = { historyLimit: 1000, versionsPerKey: 5 };

function machineAfter(commands: readonly Command[]): StateMachine {
  const machine = new StateMachine(options);
  applyAll(machine, commands);
  return machine;
}

function applyTxnAt(machine: StateMachine, command: Command, time?: number): { outcome: TxnOutcome; events: number } {
  const { result, events } = machine.apply(entry(machine.index + 1, command, time));
  if (result.txn === undefined) throw new Error('not a txn result');
  return { outcome: result.txn, events: events.length };
}

const summary = (outcome: TxnOutcome): unknown =>
  outcome.committed
    ? outcome.results.map(({ entry: kv, withValue }) => [kv.key, kv.modifyIndex, withValue ? kv.value.toString() : null])
    : outcome.errors.map(({ opIndex, what }) => [opIndex, what]);

describe('txn (API.md §8.3, §14 vectors 19 and 20)', () => {
  it('set, delete and get: results only for set and get, all at one index, get sees the set', () => {
    const machine = machineAfter([set('t0', 'old')]);
    const { outcome } = applyTxnAt(machine, txn(txnOp('set', 't1', { value: '1' }), txnOp('delete', 't0'), txnOp('get', 't1')));
    expect(outcome.committed).toBe(true);
    expect(summary(outcome)).toEqual([
      ['t1', 2, null],
      ['t1', 2, '1'],
    ]);
    expect(machine.get('t0')).toBeUndefined();
  });

  it('a failing check rolls back everything and reports every failing op', () => {
    const machine = machineAfter([set('t1', 'x')]);
    const before = machine.serialize();
    const { outcome, events } = applyTxnAt(
      machine,
      txn(txnOp('check-index', 't1', { index: 7 }), txnOp('set', 't2', { value: 'v' }), txnOp('get', 'missing'), txnOp('cas', 't1', { index: 9 })),
    );
    expect(events).toBe(0);
    expect(summary(outcome)).toEqual([
      [0, 'failed index check for key "t1", current modify index 1 != 7'],
      [2, 'key "missing" doesn\'t exist'],
      [3, 'failed to set key "t1", index is stale'],
    ]);
    expect(machine.get('t2')).toBeUndefined();
    expect(machine.tableIndex()).toBe(1);
    expect(machine.list('')).toEqual(StateMachine.restore(before, options).list(''));
  });

  it('later ops see earlier ones: check-index against the txn’s own new index, delete-cas after set', () => {
    const machine = machineAfter([set('other', 'x')]);
    const { outcome } = applyTxnAt(
      machine,
      txn(txnOp('set', 'k', { value: 'a' }), txnOp('check-index', 'k', { index: 2 }), txnOp('delete-cas', 'k', { index: 2 }), txnOp('check-not-exists', 'k')),
    );
    expect(summary(outcome)).toEqual([
      ['k', 2, null],
      ['k', 2, null],
    ]);
    expect(machine.get('k')).toBeUndefined();
  });

  it('get-tree returns one result per key with values; delete-tree of "" empties the store', () => {
    const machine = machineAfter([set('p/a', '1'), set('p/b', '2'), set('q', '3')]);
    const read = applyTxnAt(machine, txn(txnOp('set', 'p/c', { value: '4' }), txnOp('get-tree', 'p/')));
    expect(summary(read.outcome)).toEqual([
      ['p/c', 4, null],
      ['p/a', 1, '1'],
      ['p/b', 2, '2'],
      ['p/c', 4, '4'],
    ]);
    const wipe = applyTxnAt(machine, txn(txnOp('delete-tree', ''), txnOp('get-tree', 'p')));
    expect(summary(wipe.outcome)).toEqual([]);
    expect(wipe.events).toBe(4);
    expect(machine.list('')).toEqual([]);
  });

  it('cas with index 0 creates only; check-not-exists fails on an existing key', () => {
    const machine = machineAfter([set('k', 'x')]);
    expect(summary(applyTxnAt(machine, txn(txnOp('cas', 'k', { index: 0, value: 'y' }), txnOp('check-not-exists', 'k'))).outcome)).toEqual([
      [0, 'failed to set key "k", index is stale'],
      [1, 'key "k" exists'],
    ]);
  });

  it('lock, check-session and unlock follow the KV lock rules with Consul\'s error texts', () => {
    const machine = machineAfter([createSession('s1', { lockDelayMs: 5000 }), createSession('s2'), lock('held', 's2')]);
    const locked = applyTxnAt(machine, txn(txnOp('lock', 'l', { session: 's1', value: 'v' }), txnOp('check-session', 'l', { session: 's1' })));
    expect(locked.outcome.committed).toBe(true);
    expect(machine.get('l')).toMatchObject({ session: 's1', lockIndex: 1 });
    expect(
      summary(
        applyTxnAt(
          machine,
          txn(
            txnOp('lock', 'held', { session: 's1' }),
            txnOp('lock', 'x', { session: 'nope' }),
            txnOp('lock', 'x'),
            txnOp('unlock', 'held', { session: 's1' }),
            txnOp('check-session', 'held', { session: 's1' }),
            txnOp('check-session', 'gone', { session: 's1' }),
          ),
        ).outcome,
      ),
    ).toEqual([
      [0, 'failed to lock key "held", lock is already held'],
      [1, 'invalid session "nope"'],
      [2, 'missing session'],
      [3, 'failed to unlock key "held", lock isn\'t held, or is held by another session'],
      [4, 'failed session check for key "held", current session "s2" != "s1"'],
      [5, 'failed to check session, key "gone" doesn\'t exist'],
    ]);
    const at = machine.time;
    machine.apply(entry(machine.index + 1, { type: 'session.destroy', id: 's1' }, at));
    expect(summary(applyTxnAt(machine, txn(txnOp('lock', 'l', { session: 's2' })), at + 1000).outcome)).toEqual([
      [0, 'failed to lock key "l" due to lock delay'],
    ]);
    const unlocked = applyTxnAt(machine, txn(txnOp('lock', 'l', { session: 's2' }), txnOp('unlock', 'l', { session: 's2', value: 'bye' })), at + 6000);
    expect(unlocked.outcome.committed).toBe(true);
    expect(machine.get('l')).toMatchObject({ lockIndex: 2 });
    expect(machine.get('l')?.session).toBeUndefined();
  });

  it('trialTxn answers reads without changing anything and ignores lock-delay it cannot time', () => {
    const machine = machineAfter([createSession('s1', { lockDelayMs: 60_000 }), createSession('s2'), lock('l', 's1'), set('a', 'x')]);
    machine.apply(entry(machine.index + 1, { type: 'session.destroy', id: 's1' }));
    const before = machine.serialize();
    const read = machine.trialTxn([txnOp('get', 'a'), txnOp('get', 'missing')]);
    expect(read.errors).toEqual([{ opIndex: 1, what: 'key "missing" doesn\'t exist' }]);
    expect(read.results.map((result) => result.entry.key)).toEqual(['a']);
    expect(machine.trialTxn([txnOp('lock', 'l', { session: 's2' })]).errors).toEqual([]);
    expect(machine.serialize().equals(before)).toBe(true);
  });
});
