import { describe, expect, it } from '@jest/globals';
import type { Command } from './commands.js';
import { CompactedError, StateMachine } from './state-machine.js';
import { applyAll, del, delTree, set } from './testing.js';

function machineAfter(commands: readonly Command[], historyLimit = 1000): StateMachine {
  const machine = new StateMachine({ historyLimit, versionsPerKey: 3 });
  applyAll(machine, commands);
  return machine;
}

const story = [set('a', '1'), set('b', '1'), set('a/x', '1'), del('a'), set('ab', '1'), set('a', '1')]; // seqs 1–6

function summary(machine: StateMachine, after: number, key: string, recurse: boolean): string[] {
  return machine.history(after, key, recurse).map((event) => `${event.index}:${event.type}:${event.key}`);
}

describe('history(afterIndex, key, recurse)', () => {
  it.each([
    [0, 'a', false, ['1:put:a', '4:delete:a', '6:put:a']],
    [0, 'a', true, ['1:put:a', '3:put:a/x', '4:delete:a', '5:put:ab', '6:put:a']],
    [0, 'a/', true, ['3:put:a/x']],
    [3, 'a', true, ['4:delete:a', '5:put:ab', '6:put:a']],
    [4, 'a', false, ['6:put:a']],
    [6, 'a', true, []],
    [60, '', true, []],
    [0, 'zz', true, []],
    [0, '', true, ['1:put:a', '2:put:b', '3:put:a/x', '4:delete:a', '5:put:ab', '6:put:a']],
    [0, '', false, []],
  ])('after %d, key %j, recurse %s → %j', (after, key, recurse, expected) => {
    expect(summary(machineAfter(story), after, key, recurse)).toEqual(expected);
  });

  it('keeps the events of one entry together, in key order', () => {
    const machine = machineAfter([set('t/b', '1'), set('t/a', '1'), set('u', '1'), delTree('t/')]);
    expect(summary(machine, 3, '', true)).toEqual(['4:delete:t/a', '4:delete:t/b']);
    expect(machine.history(3, 't/', true)[0]?.prev?.createIndex).toBe(2);
  });

  it.each([
    [0, 1, ['1:put:t/a']],
    [0, 2, ['1:put:t/a', '2:put:t/b']],
    [2, 1, ['3:delete:t/a', '3:delete:t/b']],
    [2, 3, ['3:delete:t/a', '3:delete:t/b', '5:put:t/c']],
    [3, 5, ['5:put:t/c']],
  ])('after %d with limit %d reads whole entries only: %j', (after, limit, expected) => {
    const machine = machineAfter([set('t/a', '1'), set('t/b', '1'), delTree('t/'), set('u', '1'), set('t/c', '1')]);
    expect(machine.history(after, 't/', true, limit).map((event) => `${event.index}:${event.type}:${event.key}`)).toEqual(expected);
  });

  it('records nothing for entries that change nothing', () => {
    const machine = machineAfter([set('a', '1'), set('a', '1'), del('zz'), set('a', '2', { cas: 7 })]);
    expect(summary(machine, 0, '', true)).toEqual(['1:put:a']);
  });
});

describe('compaction floor', () => {
  // Six one-event entries in a ring of three: seqs 1–3 are dropped, so the floor is 3.
  it.each([
    [0, 'throws', 4],
    [2, 'throws', 4],
    [3, 'answers', ['4:delete:a', '5:put:ab', '6:put:a']],
    [5, 'answers', ['6:put:a']],
    [9, 'answers', []],
  ])('after %d %s', (after, outcome, expected) => {
    const machine = machineAfter(story, 3);
    expect(machine.historyFloor).toBe(3);
    if (outcome === 'throws') {
      expect(() => machine.history(after, '', true)).toThrow(CompactedError);
      expect(() => machine.history(after, '', true)).toThrow(expect.objectContaining({ oldestIndex: expected }));
    } else {
      expect(summary(machine, after, '', true)).toEqual(expected);
    }
  });

  it('throws for an exact key too, even if that key had no dropped events', () => {
    const machine = machineAfter(story, 3);
    expect(() => machine.history(0, 'ab', false)).toThrow(new CompactedError(4));
  });

  it('starts at 0 and stays there while nothing is dropped', () => {
    expect(machineAfter([]).historyFloor).toBe(0);
    expect(machineAfter(story, 6).historyFloor).toBe(0);
    expect(machineAfter(story, 5).historyFloor).toBe(1);
  });

  it('drops whole entries when an entry straddles the limit', () => {
    // Ring of 3 holds seqs 1 and 2; the two events of seq 3 push out seq 1 only.
    const machine = machineAfter([set('a', '1'), set('b', '1'), delTree('')], 3);
    expect(machine.historyFloor).toBe(1);
    expect(summary(machine, 1, '', true)).toEqual(['2:put:b', '3:delete:a', '3:delete:b']);
  });

  it('keeps none of an entry larger than the ring, and says so', () => {
    const machine = machineAfter([set('a', '1'), set('b', '1'), set('c', '1'), set('d', '1'), delTree('')], 3);
    expect(machine.historyFloor).toBe(5);
    expect(summary(machine, 5, '', true)).toEqual([]);
    expect(() => machine.history(4, '', true)).toThrow(new CompactedError(6));
  });

  it('with historyLimit 0 every change raises the floor', () => {
    const machine = machineAfter([set('a', '1'), set('a', '1'), set('a', '2')], 0);
    expect(machine.historyFloor).toBe(3);
    expect(machine.history(3, 'a', false)).toEqual([]);
  });

  it('names the oldest retained index in the message', () => {
    expect(new CompactedError(4).message).toBe('history before index 4 has been compacted');
    expect(new CompactedError(4).name).toBe('CompactedError');
  });
});
