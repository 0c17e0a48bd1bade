import { describe, expect, it } from '@jest/globals';
import type { Command } from './commands.js';
import { StateMachine } from './state-machine.js';
import { createSession, del, entry, lock, set, unlock } from './testing.js';

const options = { historyLimit: 1000, versionsPerKey: 5 };

/** Applies commands at explicit log times: [command, time] pairs, seq following on. */
function machineWith(steps: readonly (readonly [Command, number])[]): StateMachine {
  const machine = new StateMachine(options);
  for (const [command, time] of steps) machine.apply(entry(machine.index + 1, command, time));
  return machine;
}

function applyAt(machine: StateMachine, command: Command, time: number): ReturnType<StateMachine['apply']> {
  return machine.apply(entry(machine.index + 1, command, time));
}

describe('locks (API.md §5.3.3, §5.3.4, §14 vector 13)', () => {
  it('a new holder gets LockIndex + 1, the holder re-acquiring keeps it, release keeps it', () => {
    const machine = machineWith([
      [createSession('s1'), 1000],
      [createSession('s2'), 1000],
    ]);
    expect(applyAt(machine, lock('l', 's1', 'a'), 2000).result).toEqual({ ok: true });
    expect(machine.get('l')).toMatchObject({ lockIndex: 1, session: 's1', createIndex: 3, modifyIndex: 3 });
    expect(applyAt(machine, lock('l', 's2', 'b'), 2000).result).toEqual({ ok: false });
    expect(machine.get('l')?.value.toString()).toBe('a');
    expect(applyAt(machine, lock('l', 's1', 'c'), 2000).result).toEqual({ ok: true });
    expect(machine.get('l')).toMatchObject({ lockIndex: 1, session: 's1', modifyIndex: 5 });
    // Identical content: a successful no-op that touches no index.
    const { result, events } = applyAt(machine, lock('l', 's1', 'c'), 2000);
    expect(result).toEqual({ ok: true });
    expect(events).toEqual([]);
    expect(applyAt(machine, unlock('l', 's2', 'x'), 2000).result).toEqual({ ok: false });
    expect(applyAt(machine, unlock('l', 's1', 'released'), 2000).result).toEqual({ ok: true });
    const released = machine.get('l');
    expect(released).toMatchObject({ lockIndex: 1, modifyIndex: 8 });
    expect(released?.session).toBeUndefined();
    expect(released?.value.toString()).toBe('released');
    expect(applyAt(machine, lock('l', 's2'), 2000).result).toEqual({ ok: true });
    expect(machine.get('l')).toMatchObject({ lockIndex: 2, session: 's2', createIndex: 3 });
  });

  it('an unknown session is reported apart from a busy lock; release of a missing key is false', () => {
    const machine = machineWith([[createSession('s1'), 1000]]);
    expect(applyAt(machine, lock('l', 'nope'), 1000).result).toEqual({ ok: false, invalidSession: 'nope' });
    expect(applyAt(machine, unlock('missing', 's1'), 1000).result).toEqual({ ok: false });
    expect(machine.get('l')).toBeUndefined();
  });

  it('plain writes stay advisory: a set keeps the holder, a delete drops the key and its hold', () => {
    const machine = machineWith([
      [createSession('s1'), 1000],
      [lock('l', 's1'), 1000],
      [set('l', 'overwritten'), 1000],
    ]);
    expect(machine.get('l')).toMatchObject({ session: 's1', lockIndex: 1 });
    applyAt(machine, del('l'), 1000);
    // The session no longer holds it: destroying the session must not resurrect or touch the key.
    const { events } = applyAt(machine, { type: 'session.destroy', id: 's1' }, 1000);
    expect(events).toEqual([]);
  });
});

describe('invalidation (API.md §6.6, §14 vectors 14 and 15)', () => {
  it('destroy with behavior release clears Session, keeps value and LockIndex, starts lock-delay', () => {
    const machine = machineWith([
      [createSession('s1', { lockDelayMs: 15_000 }), 1000],
      [createSession('s2'), 1000],
      [lock('l', 's1', 'v'), 1000],
    ]);
    const { result, events, sessionsChanged } = applyAt(machine, { type: 'session.destroy', id: 's1' }, 10_000);
    expect(result).toEqual({ ok: true });
    expect(sessionsChanged).toBe(true);
    expect(events.map((event) => [event.type, event.key, event.entry.session, event.prev?.session])).toEqual([['put', 'l', undefined, 's1']]);
    expect(machine.get('l')).toMatchObject({ lockIndex: 1, modifyIndex: 4 });
    expect(machine.get('l')?.value.toString()).toBe('v');
    expect(machine.session('s1')).toBeUndefined();
    // Lock-delay runs to 25,000 in log time: refused inside it, granted after.
    expect(applyAt(machine, lock('l', 's2'), 24_999).result).toEqual({ ok: false });
    expect(applyAt(machine, set('l', 'plain writes are not delayed'), 24_999).events).toHaveLength(1);
    expect(applyAt(machine, lock('l', 's2'), 25_001).result).toEqual({ ok: true });
    expect(machine.get('l')?.lockIndex).toBe(2);
  });

  it('destroy with behavior delete deletes held keys and moves the prefix index (tombstone)', () => {
    const machine = machineWith([
      [createSession('s1', { behavior: 'delete' }), 1000],
      [lock('svc/a', 's1'), 1000],
      [lock('svc/b', 's1'), 1000],
      [set('svc/keep', 'x'), 1000],
    ]);
    const { events } = applyAt(machine, { type: 'session.destroy', id: 's1' }, 1000);
    expect(events.map((event) => [event.type, event.key])).toEqual([
      ['delete', 'svc/a'],
      ['delete', 'svc/b'],
    ]);
    expect(machine.list('svc/').map((kv) => kv.key)).toEqual(['svc/keep']);
    expect(machine.prefixIndex('svc/')).toBe(5);
  });

  it('destroying an unknown session is a successful no-op', () => {
    const machine = machineWith([[set('a', 'x'), 1000]]);
    expect(applyAt(machine, { type: 'session.destroy', id: 'ghost' }, 1000)).toEqual({
      result: { ok: true },
      events: [],
      sessionsChanged: false,
    });
  });
});

describe('expiry in log time', () => {
  it('a session is invalidated by the first entry whose time passes its deadline, whatever that entry is', () => {
    const machine = machineWith([
      [createSession('s1', { expiryMs: 20_000 }), 1000],
      [lock('l', 's1'), 1000],
    ]);
    expect(machine.nextSessionDeadline()).toBe(21_000);
    // At the deadline it is still valid ("passes" means strictly after).
    expect(applyAt(machine, set('other', 'x'), 21_000).sessionsChanged).toBe(false);
    expect(machine.session('s1')).toBeDefined();
    const { events, sessionsChanged } = applyAt(machine, set('other', 'y'), 21_001);
    expect(sessionsChanged).toBe(true);
    expect(events.map((event) => [event.type, event.key])).toEqual([
      ['put', 'l'],
      ['put', 'other'],
    ]);
    expect(machine.session('s1')).toBeUndefined();
    expect(machine.get('l')?.session).toBeUndefined();
    expect(machine.nextSessionDeadline()).toBeUndefined();
  });

  it('renew restarts the window at the entry time and does not move the sessions index', () => {
    const machine = machineWith([[createSession('s1', { expiryMs: 20_000 }), 1000]]);
    const renewed = applyAt(machine, { type: 'session.renew', id: 's1' }, 15_000);
    expect(renewed.result).toMatchObject({ ok: true, session: { id: 's1', deadline: 35_000 } });
    expect(renewed.sessionsChanged).toBe(false);
    expect(machine.sessionsIndex()).toBe(1);
    applyAt(machine, { type: 'session.expire' }, 30_000);
    expect(machine.session('s1')).toBeDefined();
    applyAt(machine, { type: 'session.expire' }, 35_001);
    expect(machine.session('s1')).toBeUndefined();
    expect(applyAt(machine, { type: 'session.renew', id: 's1' }, 35_002).result).toEqual({ ok: false });
  });

  it('renewing a session without TTL returns it unchanged; it never expires', () => {
    const machine = machineWith([[createSession('s1'), 1000]]);
    expect(applyAt(machine, { type: 'session.renew', id: 's1' }, 9_000_000).result).toMatchObject({ ok: true, session: { deadline: 0 } });
    expect(machine.session('s1')).toBeDefined();
  });

  it('sessions expire in (deadline, id) order within one entry', () => {
    const machine = machineWith([
      [createSession('b', { expiryMs: 10_000, behavior: 'delete' }), 1000],
      [createSession('a', { expiryMs: 10_000, behavior: 'delete' }), 1000],
      [createSession('c', { expiryMs: 5_000, behavior: 'delete' }), 1000],
      [lock('kb', 'b'), 1000],
      [lock('ka', 'a'), 1000],
      [lock('kc', 'c'), 1000],
    ]);
    const { events } = applyAt(machine, { type: 'session.expire' }, 60_000);
    expect(events.map((event) => event.key)).toEqual(['kc', 'ka', 'kb']);
  });

  it('re-arm moves every deadline to its time + window instead of expiring overdue sessions', () => {
    const machine = machineWith([[createSession('s1', { expiryMs: 20_000 }), 1000]]);
    applyAt(machine, { type: 'session.rearm' }, 500_000);
    expect(machine.session('s1')?.deadline).toBe(520_000);
    applyAt(machine, { type: 'session.expire' }, 519_000);
    expect(machine.session('s1')).toBeDefined();
  });
});

describe('snapshots keep sessions and lock-delays', () => {
  it('restore gives the same sessions, deadlines and lock-delay verdicts', () => {
    const machine = machineWith([
      [createSession('s1', { expiryMs: 20_000, lockDelayMs: 10_000 }), 1000],
      [createSession('s2', { expiryMs: 50_000 }), 1000],
      [lock('l', 's1'), 1000],
      [{ type: 'session.destroy', id: 's1' }, 2000],
    ]);
    const restored = StateMachine.restore(machine.serialize(), options);
    expect(restored.serialize().equals(machine.serialize())).toBe(true);
    expect(restored.sessions()).toEqual(machine.sessions());
    expect(restored.sessionsIndex()).toBe(4);
    expect(restored.time).toBe(2000);
    expect(applyAt(restored, lock('l', 's2'), 11_999).result).toEqual({ ok: false });
    expect(applyAt(restored, lock('l', 's2'), 12_001).result).toEqual({ ok: true });
  });
});
