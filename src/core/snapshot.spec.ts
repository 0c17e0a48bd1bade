import { describe, expect, it } from '@jest/globals';
import { decodeEntry, decodeJson, encodeEntry, encodeJson } from './codec.js';
import type { Command } from './commands.js';
import { StateMachine, type StateMachineOptions } from './state-machine.js';
import { applyAll, del, delTree, entry, rollback, set } from './testing.js';

const LOCK_FLAG = 3304740253564472344n; // Go api.Lock's 0x2ddccbc058a50c18, > 2^53
const MAX_FLAG = 2n ** 64n - 1n;
const options: StateMachineOptions = { historyLimit: 4, versionsPerKey: 2 };

const log: Command[] = [
  set('lock', 'held', { flags: LOCK_FLAG }),
  set('bin', Buffer.from([0, 255, 1, 128])),
  set('é/\u{1F600}', 'x', { flags: MAX_FLAG }),
  set('\uE000', 'y'),
  del('bin'),
  set('a/1', '1'),
  set('a/2', '2'),
  delTree('a/'),
  rollback('a/1', 6),
  set('lock', 'held', { flags: LOCK_FLAG }),
];

function replay(commands: readonly Command[], opts = options): StateMachine {
  const machine = new StateMachine(opts);
  applyAll(machine, commands);
  return machine;
}

describe('uint64 flags', () => {
  it.each([LOCK_FLAG, MAX_FLAG, 0n])('%s survives serialize/restore exactly', (flags) => {
    const machine = replay([set('k', 'v', { flags })]);
    const restored = StateMachine.restore(machine.serialize(), options);
    expect(restored.get('k')?.flags).toBe(flags);
    expect(restored.versions('k')[0]?.flags).toBe(flags);
    expect(restored.history(0, 'k', false)[0]?.entry.flags).toBe(flags);
    expect(machine.serialize().toString()).toContain(`{"$u":"${flags}"}`);
  });

  it.each([LOCK_FLAG, MAX_FLAG])('%s survives the log codec', (flags) => {
    const original = entry(7, set('k', Buffer.from([0, 1, 2]), { flags, cas: 3 }));
    const decoded = decodeEntry(encodeEntry(original));
    expect(decoded).toEqual(original);
    expect(decodeJson<{ f: bigint }>(encodeJson({ f: flags })).f).toBe(flags);
  });
});

describe('serialize / restore', () => {
  it('restores the same state byte for byte', () => {
    const machine = replay(log);
    const bytes = machine.serialize();
    const restored = StateMachine.restore(bytes, options);
    expect(restored.serialize().equals(bytes)).toBe(true);
    expect(restored.index).toBe(machine.index);
    expect(restored.historyFloor).toBe(machine.historyFloor);
    expect(restored.tableIndex()).toBe(machine.tableIndex());
    expect(restored.list('')).toEqual(machine.list(''));
    expect(restored.prefixIndex('a/')).toBe(machine.prefixIndex('a/'));
    expect(restored.versions('a/2')).toEqual(machine.versions('a/2'));
  });

  it.each(Array.from({ length: log.length + 1 }, (_, cut) => cut))(
    'restoring at %d and replaying the rest equals the full replay',
    (cut) => {
      const full = replay(log);
      const restored = StateMachine.restore(replay(log.slice(0, cut)).serialize(), options);
      applyAll(restored, log.slice(cut));
      expect(restored.serialize().equals(full.serialize())).toBe(true);
    },
  );

  it('restores an empty machine', () => {
    const restored = StateMachine.restore(new StateMachine(options).serialize(), options);
    expect(restored.index).toBe(0);
    expect(() => restored.apply(entry(1, set('k', 'v')))).not.toThrow();
  });

  it('writes keys in byte order whatever order they were written in', () => {
    const forward = replay([set('a', '1'), set('\u{1F600}', '1'), set('\uFFFD', '1')], { historyLimit: 0, versionsPerKey: 0 });
    const backward = replay([set('\uFFFD', '1'), set('\u{1F600}', '1'), set('a', '1')], { historyLimit: 0, versionsPerKey: 0 });
    // Indexes differ with write order, so only the order of the records is compared.
    const keysOf = (machine: StateMachine): string[] =>
      decodeJson<{ entries: { key: string }[] }>(machine.serialize()).entries.map((e) => e.key);
    expect(keysOf(forward)).toEqual(['a', '\uFFFD', '\u{1F600}']);
    expect(keysOf(backward)).toEqual(keysOf(forward));
  });

  it('rejects a snapshot of another format', () => {
    expect(() => StateMachine.restore(encodeJson({ format: 99 }), options)).toThrow('unsupported snapshot format 99');
  });

  it('trims history to a smaller historyLimit, raising the floor and reaping tombstones', () => {
    const machine = replay([set('a', '1'), del('a'), set('b', '1'), set('c', '1')], { historyLimit: 10, versionsPerKey: 2 });
    const restored = StateMachine.restore(machine.serialize(), { historyLimit: 2, versionsPerKey: 2 });
    expect(restored.historyFloor).toBe(2);
    expect(restored.versions('a')).toEqual([]);
    expect(restored.prefixIndex('a')).toBe(4);
  });
});

describe('values in a snapshot', () => {
  /** Bytes of the blob after the snapshot's JSON: the values as written. */
  function blobBytes(machine: StateMachine): number {
    const bytes = machine.serialize();
    return bytes.length - 4 - bytes.readUInt32BE(0);
  }
  const roomy = { historyLimit: 100, versionsPerKey: 10 };

  it('writes a value once for its entry, its version and its history events', () => {
    // Each value is held by a version and an event (as entry, then as the next write's prev),
    // the last also by the live entry: 'v1' + 'v2' + 'v3' in all.
    const machine = replay([set('k', 'v1'), set('k', 'v2'), set('k', 'v3')], roomy);
    expect(blobBytes(machine)).toBe(6);
    const restored = StateMachine.restore(machine.serialize(), roomy);
    expect(restored.versions('k').map((v) => v.value.toString())).toEqual(['v3', 'v2', 'v1']);
    expect(restored.history(0, 'k', false).map((e) => e.prev?.value.toString())).toEqual([undefined, 'v1', 'v2']);
  });

  it('shares values an event holds after its version is gone, through the live entry', () => {
    const machine = replay([set('k', 'v1'), set('k', 'v2')], { historyLimit: 100, versionsPerKey: 0 });
    expect(blobBytes(machine)).toBe(4);
  });

  it('writes small equal values of different keys apart, and large ones once', () => {
    const large = 'x'.repeat(1024);
    expect(blobBytes(replay([set('a', 'same'), set('b', 'same')], roomy))).toBe(8);
    expect(blobBytes(replay([set('a', large), set('b', large)], roomy))).toBe(1024);
  });
});

describe('serializeSteps', () => {
  it('returns what serialize() gave when it was called, though writes go on between its steps', () => {
    const options = { historyLimit: 50_000, versionsPerKey: 3 };
    const machine = new StateMachine(options);
    let seq = 0;
    for (let i = 0; i < 9000; i++) machine.apply(entry(++seq, set(`k/${i % 3000}`, `v${i}`)));
    const expected = machine.serialize();
    const steps = machine.serializeSteps();
    let pauses = 0;
    let step = steps.next();
    while (!step.done) {
      pauses++;
      machine.apply(entry(++seq, set(`k/${seq % 3000}`, `later ${seq}`)));
      machine.apply(entry(++seq, delTree('k/1')));
      step = steps.next();
    }
    expect(pauses).toBeGreaterThan(5);
    expect(step.value.equals(expected)).toBe(true);
    expect(StateMachine.restore(step.value, options).index).toBe(9000);
  });

  it('counts each version toward a step, so long version lists do not make one long step', () => {
    const machine = new StateMachine({ historyLimit: 0, versionsPerKey: 20 });
    let seq = 0;
    for (let i = 0; i < 10_000; i++) machine.apply(entry(++seq, set(`k/${i % 500}`, `v${i}`)));
    let pauses = 0;
    const steps = machine.serializeSteps();
    while (!steps.next().done) pauses++;
    // 500 entries and 500 version lists of 20: five steps' worth of versions.
    expect(pauses).toBeGreaterThanOrEqual(5);
  });
});
