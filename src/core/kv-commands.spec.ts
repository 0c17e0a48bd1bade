import { describe, expect, it } from '@jest/globals';
import type { Command } from './commands.js';
import { StateMachine } from './state-machine.js';
import { applyAll, del, delTree, entry, set } from './testing.js';

const options = { historyLimit: 1000, versionsPerKey: 5 };

/** A machine that has applied `commands` as entries 1, 2, … */
function machineAfter(commands: readonly Command[]): StateMachine {
  const machine = new StateMachine(options);
  applyAll(machine, commands);
  return machine;
}

// Seq 1 either creates k (ModifyIndex 1) or touches another key, so the command under test is seq 2.
const present = [set('k', 'old')];
const absent = [set('other', 'x')];

describe('kv.set with cas (the CAS table in commands.ts)', () => {
  it.each([
    ['absent', 0, true, 'new', absent],
    ['absent', 1, false, undefined, absent],
    ['absent', 7, false, undefined, absent],
    ['present, ModifyIndex 1', 0, false, 'old', present],
    ['present, ModifyIndex 1', 1, true, 'new', present],
    ['present, ModifyIndex 1', 5, false, 'old', present],
  ])('key %s, cas=%d → ok %s', (_state, cas, ok, value, setup) => {
    const machine = machineAfter(setup);
    const before = machine.serialize();
    const { result, events } = machine.apply(entry(2, set('k', 'new', { cas })));
    expect(result).toEqual({ ok });
    expect(machine.get('k')?.value.toString()).toBe(value);
    expect(machine.index).toBe(2);
    if (ok) {
      expect(machine.get('k')?.modifyIndex).toBe(2);
      expect(events).toHaveLength(1);
    } else {
      expect(events).toEqual([]);
      // A refused CAS consumes its seq and changes nothing else.
      expect(machine.tableIndex()).toBe(1);
      expect(machine.list('')).toEqual(StateMachine.restore(before, options).list(''));
    }
  });
});

describe('kv.delete with cas', () => {
  it.each([
    ['absent', absent, 0, true, false],
    ['absent', absent, 7, true, false],
    ['present, ModifyIndex 1', present, 0, false, false],
    ['present, ModifyIndex 1', present, 1, true, true],
    ['present, ModifyIndex 1', present, 5, false, false],
  ])('key %s: cas %d → ok %s, deleted %s', (_state, setup, cas, ok, deleted) => {
    const machine = machineAfter(setup);
    const existed = machine.get('k') !== undefined;
    const { result, events } = machine.apply(entry(2, del('k', cas)));
    expect(result).toEqual({ ok });
    expect(events.map((event) => event.type)).toEqual(deleted ? ['delete'] : []);
    expect(machine.get('k') === undefined).toBe(deleted || !existed);
    expect(machine.tableIndex()).toBe(deleted ? 2 : 1);
  });

  it('deletes a missing key without cas as a successful no-op', () => {
    const machine = machineAfter(absent);
    expect(machine.apply(entry(2, del('k')))).toEqual({ result: { ok: true }, events: [], sessionsChanged: false });
    expect(machine.tableIndex()).toBe(1);
  });
});

describe('the no-op rule: identical value and flags change nothing', () => {
  it.each([
    ['same value, same flags', set('k', 'x', { flags: 7n }), false],
    ['same value, same flags, matching cas', set('k', 'x', { flags: 7n, cas: 1 }), false],
    ['same value, flags reset to 0', set('k', 'x'), true],
    ['same value, other flags', set('k', 'x', { flags: 8n }), true],
    ['other value', set('k', 'y', { flags: 7n }), true],
    ['empty value', set('k', '', { flags: 7n }), true],
  ])('%s → changed %s', (_case, command, changed) => {
    const machine = machineAfter([set('k', 'x', { flags: 7n })]);
    const { result, events } = machine.apply(entry(2, command));
    expect(result).toEqual({ ok: true });
    expect(events).toHaveLength(changed ? 1 : 0);
    expect(machine.get('k')?.modifyIndex).toBe(changed ? 2 : 1);
    expect(machine.tableIndex()).toBe(changed ? 2 : 1);
    expect(machine.versions('k')).toHaveLength(changed ? 2 : 1);
    expect(machine.index).toBe(2);
  });
});

describe('kv.set metadata', () => {
  it('creates with CreateIndex = ModifyIndex = seq and LockIndex 0, then keeps CreateIndex', () => {
    const machine = machineAfter([set('other', 'x'), set('k', 'a'), set('other', 'y'), set('k', 'b', { flags: 9n })]);
    expect(machine.get('k')).toEqual({
      key: 'k',
      value: Buffer.from('b'),
      flags: 9n,
      createIndex: 2,
      modifyIndex: 4,
      lockIndex: 0,
    });
  });

  it('emits put events with prev on update and without prev on create', () => {
    const machine = new StateMachine(options);
    const created = machine.apply(entry(1, set('k', 'a'))).events;
    const updated = machine.apply(entry(2, set('k', 'b'))).events;
    expect(created).toEqual([{ index: 1, type: 'put', key: 'k', entry: expect.objectContaining({ createIndex: 1, modifyIndex: 1 }) }]);
    expect(created[0]).not.toHaveProperty('prev');
    expect(updated).toEqual([
      {
        index: 2,
        type: 'put',
        key: 'k',
        entry: machine.get('k'),
        prev: expect.objectContaining({ value: Buffer.from('a'), modifyIndex: 1 }),
      },
    ]);
  });

  it('emits a delete event with an empty value, the old CreateIndex/LockIndex and prev', () => {
    const machine = machineAfter([set('k', 'a', { flags: 3n }), set('k', 'b', { flags: 3n })]);
    const prev = machine.get('k');
    const { events } = machine.apply(entry(3, del('k')));
    expect(events).toEqual([
      {
        index: 3,
        type: 'delete',
        key: 'k',
        entry: { key: 'k', value: Buffer.alloc(0), flags: 0n, createIndex: 1, modifyIndex: 3, lockIndex: 0 },
        prev,
      },
    ]);
  });
});

describe('kv.delete-tree', () => {
  const keys = ['web', 'web/a', 'web/b/c', 'website', 'x'];

  it.each([
    ['web/', ['web/a', 'web/b/c'], ['web', 'website', 'x']],
    ['web', ['web', 'web/a', 'web/b/c', 'website'], ['x']],
    ['', keys, []],
    ['nothing', [], keys],
  ])('prefix %j deletes %j in key order', (prefix, deleted, kept) => {
    const machine = machineAfter(keys.map((key) => set(key, 'v')));
    const { result, events } = machine.apply(entry(6, delTree(prefix)));
    expect(result).toEqual({ ok: true });
    expect(events.map((event) => [event.type, event.key, event.index])).toEqual(deleted.map((key) => ['delete', key, 6]));
    expect(machine.keys('')).toEqual(kept);
    expect(machine.tableIndex()).toBe(deleted.length > 0 ? 6 : 5);
  });
});

describe('apply', () => {
  it.each([0, 2, 5, -1, 1.5])('refuses seq %d on an empty machine', (seq) => {
    const machine = new StateMachine(options);
    expect(() => machine.apply(entry(seq, set('k', 'v')))).toThrow(/does not follow applied index 0/);
    expect(machine.index).toBe(0);
  });

  it('refuses a repeated seq', () => {
    const machine = machineAfter([set('k', 'v')]);
    expect(() => machine.apply(entry(1, set('k', 'w')))).toThrow(/entry seq 1 does not follow applied index 1/);
  });

  it('consumes the seq of entries that change nothing', () => {
    const machine = machineAfter([set('k', 'v'), set('k', 'v'), del('nope'), set('k', 'w', { cas: 99 })]);
    expect(machine.index).toBe(4);
    expect(machine.tableIndex()).toBe(1);
  });

  it('throws on an unknown command type without consuming the seq', () => {
    const machine = new StateMachine(options);
    const unknown = { type: 'kv.frobnicate', key: 'k' } as unknown as Command;
    expect(() => machine.apply(entry(1, unknown))).toThrow('unknown command type "kv.frobnicate"');
    expect(machine.index).toBe(0);
  });

  it.each([
    [{ historyLimit: -1, versionsPerKey: 1 }],
    [{ historyLimit: 1, versionsPerKey: 0.5 }],
    [{ historyLimit: Number.NaN, versionsPerKey: 1 }],
  ])('rejects options %j', (bad) => {
    expect(() => new StateMachine(bad)).toThrow(RangeError);
  });
});

describe('casIsStale: a CAS the proposer may refuse without appending', () => {
  it.each([
    ['absent key', false, 5, []],
    ['create-only (cas=0) on a present key is left to apply', false, 0, [set('k', 'v')]],
    ['cas equal to ModifyIndex', false, 1, [set('k', 'v')]],
    ['cas ahead of the replica (it may lag the log)', false, 9, [set('k', 'v')]],
    ['cas behind ModifyIndex', true, 1, [set('k', 'v'), set('k', 'w')]],
  ])('%s → stale %s', (_label, stale, cas, commands) => {
    const machine = machineAfter(commands);
    expect(machine.casIsStale('k', cas)).toBe(stale);
    if (stale) expect(machine.apply(entry(machine.index + 1, set('k', 'x', { cas }))).result.ok).toBe(false);
  });
});
