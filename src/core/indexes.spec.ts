import { describe, expect, it } from '@jest/globals';
import type { Command } from './commands.js';
import { StateMachine } from './state-machine.js';
import { applyAll, del, delTree, set } from './testing.js';

function machineAfter(commands: readonly Command[], historyLimit = 1000): StateMachine {
  const machine = new StateMachine({ historyLimit, versionsPerKey: 3 });
  applyAll(machine, commands);
  return machine;
}

// Consul kvs_test.go style: explicit seqs, narrated expectations.
const base = [set('a/1', 'x'), set('a/2', 'x'), set('b', 'x')]; // seqs 1, 2, 3

describe('tombstones move prefix indexes forward', () => {
  it.each([
    ['a delete under a prefix raises the prefix index', [del('a/2')], 'a/', 4],
    ['deleting an older key also raises it', [del('a/1')], 'a/', 4],
    ['a delete elsewhere does not', [del('b')], 'a/', 2],
    ['a delete-tree under the prefix raises it', [delTree('a/')], 'a/', 4],
    ['a delete-tree of the whole store raises every prefix', [delTree('')], 'b', 4],
    ['a plain string prefix sees the tombstone of a longer key', [del('a/2')], 'a', 4],
    ['a failed delete-cas leaves it', [del('a/2', 1)], 'a/', 2],
    ['deleting a missing key leaves it', [del('a/3')], 'a/', 2],
    ['recreating after delete-tree: newest entry wins over older tombstones', [delTree('a/'), set('a/1', 'y')], 'a/', 5],
    ['a prefix with nothing under it falls back to the table index', [del('b')], 'zzz', 4],
    ['a prefix with only tombstones reports the tombstone', [del('b'), set('c', 'x')], 'b', 4],
    ['the empty prefix is the table index', [del('a/1'), set('b', 'x')], '', 4],
  ])('%s', (_story, then, prefix, expected) => {
    const machine = machineAfter([...base, ...then]);
    expect(machine.prefixIndex(prefix)).toBe(expected);
  });

  it('never reports 0 for a prefix once anything was written, and 0 on an empty machine', () => {
    expect(machineAfter([]).prefixIndex('a')).toBe(0);
    expect(machineAfter([]).tableIndex()).toBe(0);
    expect(machineAfter([set('x', '')]).prefixIndex('a')).toBe(1);
  });
});

describe('tableIndex and keyIndex', () => {
  it.each([
    ['no-op set', set('b', 'x'), 3],
    ['refused cas', set('b', 'y', { cas: 99 }), 3],
    ['delete of a missing key', del('zz'), 3],
    ['empty delete-tree', delTree('zz'), 3],
    ['a real change', set('b', 'y'), 4],
    ['a delete', del('b'), 4],
  ])('%s at seq 4 → tableIndex %d', (_case, command, expected) => {
    const machine = machineAfter([...base, command]);
    expect(machine.tableIndex()).toBe(expected);
    expect(machine.index).toBe(4);
  });

  it('keyIndex is the ModifyIndex of a present key, else the table index', () => {
    const machine = machineAfter([...base, del('a/2'), set('c', 'x')]);
    expect(machine.keyIndex('a/1')).toBe(1);
    expect(machine.keyIndex('b')).toBe(3);
    expect(machine.keyIndex('a/2')).toBe(5);
    expect(machine.keyIndex('never')).toBe(5);
  });

  it('recreating a key drops its tombstone', () => {
    // Seq 4 deletes a/2; seq 5 recreates it, so only its entry counts, not the tombstone at 4.
    const machine = machineAfter([...base, del('a/2'), set('a/2', 'y'), del('a/1')]);
    expect(machine.prefixIndex('a/2')).toBe(5);
  });
});

describe('compaction reaps tombstones at the history floor', () => {
  it('lets a prefix fall back once its tombstone is reaped', () => {
    // historyLimit 2: each entry below yields one event, so each new entry drops the oldest.
    const machine = machineAfter([set('a/1', 'x'), set('b', 'x'), del('a/1')], 2);
    expect(machine.historyFloor).toBe(1);
    expect(machine.prefixIndex('a/')).toBe(3);
    expect(machine.versions('a/1')).toHaveLength(1);

    applyAll(machine, [set('c', 'x')]); // drops seq 2: floor 2, tombstone at 3 stays
    expect(machine.prefixIndex('a/')).toBe(3);

    applyAll(machine, [set('d', 'x')]); // drops seq 3: floor 3 reaps the tombstone and its versions
    expect(machine.historyFloor).toBe(3);
    expect(machine.prefixIndex('a/')).toBe(5);
    expect(machine.versions('a/1')).toEqual([]);
  });

  it('keeps versions of a live key when another key is reaped', () => {
    const machine = machineAfter([set('a', 'x'), del('b'), set('b', 'x'), del('b'), set('c', 'x'), set('d', 'x')], 1);
    expect(machine.versions('a')).toHaveLength(1);
    expect(machine.versions('b')).toEqual([]);
    expect(machine.prefixIndex('b')).toBe(6);
  });
});
