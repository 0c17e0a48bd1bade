import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { StateMachine } from '../core/state-machine.js';
import { applyAll, del, set } from '../core/testing.js';
import { StateDigests } from './state-digest.js';

const OPTIONS = { historyLimit: 100, versionsPerKey: 5 };

function machineWith(count: number): StateMachine {
  const machine = new StateMachine(OPTIONS);
  applyAll(machine, Array.from({ length: count }, (_, i) => (i % 7 === 6 ? del(`k/${i - 1}`) : set(`k/${i}`, `value ${i}`))));
  return machine;
}

describe(StateDigests.name, () => {
  it('is the sha256 of serialize(), equal for replicas in the same state', async () => {
    const [a, b] = [machineWith(5000), machineWith(5000)];
    const digest = await new StateDigests().of(a).digest;
    expect(digest).toBe(createHash('sha256').update(a.serialize()).digest('hex'));
    expect(await new StateDigests().of(b).digest).toBe(digest);
    expect(await new StateDigests().of(machineWith(4999)).digest).not.toBe(digest);
  });

  it('describes the state at the index it was asked at, even if entries are applied meanwhile', async () => {
    const machine = machineWith(3000);
    const expected = createHash('sha256').update(machine.serialize()).digest('hex');
    const { index, digest } = new StateDigests().of(machine);
    applyAll(machine, [set('k/late', 'x')]);
    expect([index, await digest]).toEqual([3000, expected]);
  });

  it('reuses a digest while the state stays at its index', () => {
    const machine = machineWith(10);
    const digests = new StateDigests();
    const first = digests.of(machine);
    expect(digests.of(machine)).toBe(first);
    applyAll(machine, [set('k/next', 'y')]);
    const current = digests.of(machine);
    expect(current.index).toBe(11);
    // A reset replaces the machine: another state at the same index is digested afresh.
    expect(digests.of(machineWith(11))).not.toBe(current);
  });
});
