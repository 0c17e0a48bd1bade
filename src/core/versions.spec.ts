import { describe, expect, it } from '@jest/globals';
import type { Command } from './commands.js';
import { StateMachine } from './state-machine.js';
import { applyAll, del, entry, rollback, set } from './testing.js';

function machineAfter(commands: readonly Command[], versionsPerKey = 3): StateMachine {
  const machine = new StateMachine({ historyLimit: 1000, versionsPerKey });
  applyAll(machine, commands);
  return machine;
}

const five = [1, 2, 3, 4, 5].map((n) => set('k', `v${n}`, { flags: BigInt(n) })); // seqs 1–5

describe('versions(key)', () => {
  it('keeps the newest versionsPerKey, newest first', () => {
    expect(machineAfter(five).versions('k')).toEqual([
      { modifyIndex: 5, value: Buffer.from('v5'), flags: 5n },
      { modifyIndex: 4, value: Buffer.from('v4'), flags: 4n },
      { modifyIndex: 3, value: Buffer.from('v3'), flags: 3n },
    ]);
  });

  it.each([0, 1, 2, 5, 9])('never holds more than versionsPerKey = %d', (perKey) => {
    expect(machineAfter(five, perKey).versions('k')).toHaveLength(Math.min(perKey, 5));
  });

  it('keeps the versions of a deleted key', () => {
    const machine = machineAfter([...five, del('k')]);
    expect(machine.get('k')).toBeUndefined();
    expect(machine.versions('k').map((version) => version.modifyIndex)).toEqual([5, 4, 3]);
  });

  it('is empty for a key never written', () => {
    expect(machineAfter(five).versions('other')).toEqual([]);
  });

  it('hands out a copy', () => {
    const machine = machineAfter(five);
    machine.versions('k').pop();
    expect(machine.versions('k')).toHaveLength(3);
  });
});

describe('kv.rollback', () => {
  it.each([
    // [case, extra setup after the five sets, rollback, result, value of k after, ModifyIndex after]
    ['to a retained version', [], rollback('k', 4), { ok: true }, 'v4', 6],
    ['to the current version (no-op)', [], rollback('k', 5), { ok: true }, 'v5', 5],
    ['to a version that fell out of the bound', [], rollback('k', 2), { ok: false, missing: 'version 2 of key "k" is not retained' }, 'v5', 5],
    ['to an index that never was a version', [], rollback('k', 99), { ok: false, missing: 'version 99 of key "k" is not retained' }, 'v5', 5],
    ['of an unknown key', [], rollback('x', 4), { ok: false, missing: 'version 4 of key "x" is not retained' }, 'v5', 5],
    ['with a matching cas', [], rollback('k', 3, 5), { ok: true }, 'v3', 6],
    ['with a stale cas', [], rollback('k', 3, 4), { ok: false }, 'v5', 5],
    ['with cas 0 on a present key', [], rollback('k', 3, 0), { ok: false }, 'v5', 5],
    ['with a stale cas and an unknown version: missing wins', [], rollback('k', 1, 4), { ok: false, missing: 'version 1 of key "k" is not retained' }, 'v5', 5],
  ] as const)('%s', (_case, extra, command, result, value, modifyIndex) => {
    const machine = machineAfter([...five, ...extra]);
    const seq = machine.index + 1;
    const outcome = machine.apply(entry(seq, command));
    expect(outcome.result).toEqual(result);
    expect(machine.get('k')?.value.toString()).toBe(value);
    expect(machine.get('k')?.modifyIndex).toBe(modifyIndex);
    expect(machine.index).toBe(seq);
    expect(outcome.events).toHaveLength(modifyIndex === seq ? 1 : 0);
  });

  it('writes the old value and flags as a new version, keeping CreateIndex', () => {
    const machine = machineAfter([...five, rollback('k', 3)]);
    expect(machine.get('k')).toEqual({ key: 'k', value: Buffer.from('v3'), flags: 3n, createIndex: 1, modifyIndex: 6, lockIndex: 0 });
    expect(machine.versions('k').map((version) => version.modifyIndex)).toEqual([6, 5, 4]);
  });

  it.each([
    ['without cas', undefined],
    ['with cas 0 (restore only if still absent)', 0],
  ])('recreates a deleted key %s', (_case, cas) => {
    const machine = machineAfter([set('k', 'v1', { flags: 7n }), set('k', 'v2'), del('k'), rollback('k', 1, cas)]);
    expect(machine.get('k')).toEqual({ key: 'k', value: Buffer.from('v1'), flags: 7n, createIndex: 4, modifyIndex: 4, lockIndex: 0 });
    expect(machine.prefixIndex('k')).toBe(4);
    expect(machine.versions('k').map((version) => version.modifyIndex)).toEqual([4, 2, 1]);
  });

  it('refuses to recreate a deleted key with cas > 0', () => {
    const machine = machineAfter([set('k', 'v1'), del('k'), rollback('k', 1, 1)]);
    expect(machine.get('k')).toBeUndefined();
  });

  it('has nothing to roll back to when versionsPerKey is 0', () => {
    const machine = machineAfter([set('k', 'v1')], 0);
    expect(machine.apply(entry(2, rollback('k', 1))).result).toEqual({
      ok: false,
      missing: 'version 1 of key "k" is not retained',
    });
  });
});
