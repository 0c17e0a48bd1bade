import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeJson } from './codec.js';
import type { Command, CommandResult, TxnOp, TxnVerb } from './commands.js';
import type { KvEntry, KvVersion } from './entry.js';
import { CompactedError, StateMachine, type ApplyOutcome, type StateMachineOptions } from './state-machine.js';
import { applyAll, del, delTree, entry, rollback, set } from './testing.js';

/**
 * Random logs over a small key alphabet (so writes collide, CAS sometimes matches and rollbacks
 * sometimes find their version) with tiny limits (so compaction runs all the time).
 */
const KEYS = ['a', 'a/b', 'a/c', 'ab', 'b', 'b/\u{1F600}', 'b/\uE000', 'é'];
const PREFIXES = ['', 'a', 'a/', 'b/', 'z'];
const index = fc.nat({ max: 24 });
/** Most writes are unconditional; a cas on one in four keeps both outcomes of the CAS table common. */
const cas: fc.Arbitrary<number | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: index },
);

const kvCommand: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        key: fc.constantFrom(...KEYS),
        value: fc.constantFrom('', 'x', 'y'),
        flags: fc.constantFrom(0n, 1n, 3304740253564472344n, 2n ** 64n - 1n),
        cas,
      })
      .map(({ key, value, flags, cas: expected }) => set(key, value, expected === undefined ? { flags } : { flags, cas: expected })),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...KEYS), cas).map(([key, expected]) => del(key, expected)) },
  { weight: 1, arbitrary: fc.constantFrom(...PREFIXES).map(delTree) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYS), index, cas)
      .map(([key, version, expected]) => rollback(key, version, expected)),
  },
);

/**
 * Sessions and locks over three session ids, with expiry windows a few entries long (entries
 * are 1 s apart), so sessions expire, keys get released or deleted, and lock-delays bite.
 */
const SESSION_IDS = ['s1', 's2', 's3'];
const sessionId = fc.constantFrom(...SESSION_IDS, '');
const value = fc.constantFrom('', 'x', 'y').map((text) => Buffer.from(text));
const TXN_VERBS: TxnVerb[] = ['set', 'cas', 'lock', 'unlock', 'get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas'];
const txnOp: fc.Arbitrary<TxnOp> = fc.record({
  verb: fc.constantFrom(...TXN_VERBS),
  key: fc.constantFrom(...KEYS),
  value,
  flags: fc.constantFrom(0n, 7n),
  index,
  session: sessionId,
});

const sessionCommand: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .record({
        id: fc.constantFrom(...SESSION_IDS),
        expiryMs: fc.constantFrom(0, 2500, 6000),
        behavior: fc.constantFrom('release' as const, 'delete' as const),
        lockDelayMs: fc.constantFrom(0, 1500),
      })
      .map(({ id, expiryMs, behavior, lockDelayMs }) => ({
        type: 'session.create' as const,
        id,
        name: '',
        node: 'n',
        ttl: expiryMs === 0 ? '' : `${expiryMs / 2000}s`,
        ttlMs: expiryMs / 2,
        expiryMs,
        behavior,
        lockDelayMs,
        nodeChecks: ['serfHealth'],
        serviceChecks: null,
      })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...SESSION_IDS).map((id) => ({ type: 'session.renew' as const, id })) },
  { weight: 1, arbitrary: fc.constantFrom(...SESSION_IDS).map((id) => ({ type: 'session.destroy' as const, id })) },
  { weight: 1, arbitrary: fc.constantFrom({ type: 'session.expire' as const }, { type: 'session.rearm' as const }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ type: fc.constantFrom('kv.lock' as const, 'kv.unlock' as const), key: fc.constantFrom(...KEYS), value, flags: fc.constantFrom(0n, 7n), session: sessionId })
      .map((lock): Command => lock),
  },
  { weight: 2, arbitrary: fc.array(txnOp, { minLength: 1, maxLength: 4 }).map((ops): Command => ({ type: 'txn', ops })) },
);

const anyCommand: fc.Arbitrary<Command> = fc.oneof({ weight: 2, arbitrary: kvCommand }, { weight: 1, arbitrary: sessionCommand });

const limits = fc.record({ historyLimit: fc.nat({ max: 6 }), versionsPerKey: fc.nat({ max: 3 }) });
const scenario = fc.record({ options: limits, log: fc.array(anyCommand, { maxLength: 40, size: 'max' }) });
const kvScenario = fc.record({ options: limits, log: fc.array(kvCommand, { maxLength: 40, size: 'max' }) });

function replay(options: StateMachineOptions, log: readonly Command[]): { machine: StateMachine; outcomes: ApplyOutcome[] } {
  const machine = new StateMachine(options);
  return { machine, outcomes: applyAll(machine, log) };
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('state machine properties', () => {
  it('is deterministic: replaying the same log twice gives the same bytes and outcomes', () => {
    fc.assert(
      fc.property(scenario, ({ options, log }) => {
        const first = replay(options, log);
        const second = replay(options, log);
        expect(second.machine.serialize().equals(first.machine.serialize())).toBe(true);
        expect(encodeJson(second.outcomes).equals(encodeJson(first.outcomes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('restore(serialize()) at any cut, then the rest of the log, equals the full replay', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ options, log }, seed) => {
        const cut = seed % (log.length + 1);
        const full = replay(options, log);
        const head = replay(options, log.slice(0, cut)).machine.serialize();
        const restored = StateMachine.restore(head, options);
        expect(restored.serialize().equals(head)).toBe(true);
        const tail = applyAll(restored, log.slice(cut));
        expect(encodeJson(tail).equals(encodeJson(full.outcomes.slice(cut)))).toBe(true);
        expect(restored.serialize().equals(full.machine.serialize())).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('history never has a silent gap: above the floor it is exactly the emitted events', () => {
    fc.assert(
      fc.property(scenario, ({ options, log }) => {
        const { machine, outcomes } = replay(options, log);
        const emitted = outcomes.flatMap((outcome) => outcome.events);
        for (let after = 0; after <= machine.index; after++) {
          if (after < machine.historyFloor) {
            expect(() => machine.history(after, '', true)).toThrow(new CompactedError(machine.historyFloor + 1));
          } else {
            expect(machine.history(after, '', true)).toEqual(emitted.filter((event) => event.index > after));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reads agree with a naive scan of the store', () => {
    fc.assert(
      fc.property(scenario, ({ options, log }) => {
        const { machine } = replay(options, log);
        const all = machine.list('');
        const keys = all.map((entry) => entry.key);
        expect(keys).toEqual([...keys].sort(byBytes));
        for (const prefix of [...PREFIXES, ...KEYS]) {
          const under = all.filter((entry) => entry.key.startsWith(prefix));
          expect(machine.list(prefix)).toEqual(under);
          const naiveKeys = [
            ...new Set(
              under.map(({ key }) => {
                const cut = key.indexOf('/', prefix.length);
                return cut < 0 ? key : key.slice(0, cut + 1);
              }),
            ),
          ];
          expect(machine.keys(prefix, '/')).toEqual(naiveKeys);
          const newest = Math.max(0, ...under.map((entry) => entry.modifyIndex));
          expect(machine.prefixIndex(prefix)).toBeGreaterThanOrEqual(newest);
          expect(machine.prefixIndex(prefix)).toBeLessThanOrEqual(machine.tableIndex());
        }
        for (const key of KEYS) {
          expect(machine.versions(key).length).toBeLessThanOrEqual(options.versionsPerKey);
          expect(machine.keyIndex(key)).toBe(machine.get(key)?.modifyIndex ?? machine.tableIndex());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a txn that fails changes nothing; one that commits writes everything at its own index', () => {
    fc.assert(
      fc.property(scenario, ({ options, log }) => {
        const machine = new StateMachine(options);
        for (const command of log) {
          const before = machine.serialize();
          const at = entry(machine.index + 1, command);
          const { result, events } = machine.apply(at);
          if (command.type !== 'txn') continue;
          for (const event of events) expect(event.index).toBe(at.seq);
          if (result.txn?.committed !== false) continue;
          // The same entry without the txn: only its session expiries may have changed anything.
          const without = StateMachine.restore(before, options);
          expect(events).toEqual(without.apply({ ...at, command: { type: 'session.expire' } }).events);
          expect(machine.serialize().equals(without.serialize())).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a lock has one holder at a time and LockIndex grows by one per new holder', () => {
    fc.assert(
      fc.property(scenario, ({ options, log }) => {
        const machine = new StateMachine(options);
        for (const command of log) {
          const before = new Map(machine.list('').map((kv) => [kv.key, kv]));
          const { events } = machine.apply(entry(machine.index + 1, command));
          for (const { key, entry: after, type } of events) {
            const prev = before.get(key);
            if (type === 'delete' || after.session === undefined) continue;
            expect(machine.session(after.session)).toBeDefined();
            if (prev?.session === after.session) expect(after.lockIndex).toBe(prev.lockIndex);
            else expect(after.lockIndex).toBe((prev?.lockIndex ?? 0) + 1);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('follows a naive reference model of the KV semantics, tombstones and versions', () => {
    fc.assert(
      fc.property(kvScenario, ({ options, log }) => {
        const machine = new StateMachine(options);
        const model = new ReferenceModel(options.versionsPerKey);
        for (const command of log) {
          const seq = machine.index + 1;
          const { result } = machine.apply(entry(seq, command));
          expect(result).toEqual(model.apply(seq, command));
          model.compact(machine.historyFloor);
          expect(machine.list('')).toEqual(model.entries());
          expect(machine.tableIndex()).toBe(model.tableIndex);
          for (const key of KEYS) expect(machine.versions(key)).toEqual(model.versions(key));
          for (const prefix of PREFIXES) expect(machine.prefixIndex(prefix)).toBe(model.prefixIndex(prefix));
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * The KV rules restated as naively as possible (full scans, no shared helpers), in the spirit
 * of etcd's robustness model. The history floor is an input: the model does not keep a ring.
 */
class ReferenceModel {
  tableIndex = 0;
  private readonly live = new Map<string, KvEntry>();
  private readonly deletedAt = new Map<string, number>();
  private readonly puts = new Map<string, KvVersion[]>();

  constructor(private readonly perKey: number) {}

  apply(seq: number, command: Command): CommandResult {
    const current = 'key' in command ? this.live.get(command.key) : undefined;
    const casOk = (cas: number | undefined): boolean =>
      cas === undefined || (cas === 0 ? current === undefined : current?.modifyIndex === cas);
    switch (command.type) {
      case 'kv.set':
        if (!casOk(command.cas)) return { ok: false };
        this.put(seq, command.key, command.value, command.flags);
        return { ok: true };
      case 'kv.delete':
        if (command.cas !== undefined && current !== undefined && current.modifyIndex !== command.cas) return { ok: false };
        if (current !== undefined) this.remove(seq, command.key);
        return { ok: true };
      case 'kv.delete-tree':
        for (const key of [...this.live.keys()]) if (key.startsWith(command.prefix)) this.remove(seq, key);
        return { ok: true };
      case 'kv.rollback': {
        const version = this.versions(command.key).find((v) => v.modifyIndex === command.version);
        if (version === undefined) {
          return { ok: false, missing: `version ${command.version} of key "${command.key}" is not retained` };
        }
        if (!casOk(command.cas)) return { ok: false };
        this.put(seq, command.key, version.value, version.flags);
        return { ok: true };
      }
      case 'noop':
        return { ok: true };
      default:
        throw new Error(`the reference model covers KV commands only, not ${command.type}`);
    }
  }

  compact(floor: number): void {
    for (const [key, index] of this.deletedAt) {
      if (index > floor) continue;
      this.deletedAt.delete(key);
      this.puts.delete(key);
    }
  }

  entries(): KvEntry[] {
    return [...this.live.values()].sort((a, b) => byBytes(a.key, b.key));
  }

  versions(key: string): KvVersion[] {
    return [...(this.puts.get(key) ?? [])].reverse().slice(0, this.perKey);
  }

  prefixIndex(prefix: string): number {
    if (prefix === '') return this.tableIndex;
    const live = this.entries().filter((e) => e.key.startsWith(prefix)).map((e) => e.modifyIndex);
    const dead = [...this.deletedAt].filter(([key]) => key.startsWith(prefix)).map(([, index]) => index);
    const own = Math.max(0, ...live, ...dead);
    return own > 0 ? own : this.tableIndex;
  }

  private put(seq: number, key: string, value: Buffer, flags: bigint): void {
    const old = this.live.get(key);
    if (old !== undefined && old.value.equals(value) && old.flags === flags) return;
    const next: KvEntry = {
      key,
      value,
      flags,
      createIndex: old?.createIndex ?? seq,
      modifyIndex: seq,
      lockIndex: old?.lockIndex ?? 0,
    };
    this.live.set(key, next);
    this.deletedAt.delete(key);
    this.puts.set(key, [...(this.puts.get(key) ?? []), { modifyIndex: seq, value, flags }]);
    this.tableIndex = seq;
  }

  private remove(seq: number, key: string): void {
    this.live.delete(key);
    this.deletedAt.set(key, seq);
    this.tableIndex = seq;
  }
}
