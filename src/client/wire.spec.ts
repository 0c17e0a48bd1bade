import { durationMs } from './duration.js';
import { batchesOf } from './watch-long-poll.js';
import { changeEvent, kvEntry, parseExactJson, type WireKvEntry } from './wire.js';

describe('parseExactJson', () => {
  it('keeps uint64 Flags exact above 2^53', () => {
    const [wire] = parseExactJson('[{"LockIndex":0,"Key":"k","Flags":18446744073709551615,"Value":null,"CreateIndex":2,"ModifyIndex":3}]') as WireKvEntry[];
    expect(kvEntry(wire!).flags).toBe(2n ** 64n - 1n);
  });

  it('leaves text that only looks like Flags inside strings alone', () => {
    const text = '[{"Key":"a\\"Flags\\":9007199254740993","Flags":9007199254740993,"Value":"RmxhZ3M6MQ==","CreateIndex":1,"ModifyIndex":1,"LockIndex":0}]';
    const [wire] = parseExactJson(text) as WireKvEntry[];
    const entry = kvEntry(wire!);
    expect(entry.key).toBe('a"Flags":9007199254740993');
    expect(entry.flags).toBe(9007199254740993n);
    expect(entry.value.toString()).toBe('Flags:1');
  });
});

describe('changeEvent and batchesOf', () => {
  const event = (index: number, key: string) =>
    changeEvent({ Type: 'put', Key: key, Value: null, Flags: '0', CreateIndex: index, ModifyIndex: index, LockIndex: 0, Session: null });

  it('groups the events of one write, which share an index and are adjacent', () => {
    const batches = batchesOf([event(3, 'a'), event(5, 'a'), event(5, 'b'), event(9, 'c')]);
    expect(batches.map((b) => [b.index, b.events.map((e) => e.key)])).toEqual([
      [3, ['a']],
      [5, ['a', 'b']],
      [9, ['c']],
    ]);
  });
});

describe('durationMs', () => {
  it.each([
    ['15s', 15_000],
    ['1m30s', 90_000],
    ['0.5s', 500],
    ['250ms', 250],
    ['0', 0],
  ])('%s → %i ms', (duration, ms) => {
    expect(durationMs(duration)).toBe(ms);
  });

  it('refuses a number without a unit', () => {
    expect(() => durationMs('15')).toThrow(/not a Go duration/);
  });
});
