import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LogEntry } from '../core/commands.js';
import type { LogRecovery, Proposal, ReplicatedLog } from './replicated-log.js';

/**
 * The ReplicatedLog contract as one suite every transport runs (file log, Redis log). It uses
 * nothing but the port, and waits on the listener instead of sleeping, because in a
 * distributed transport the listener may trail append().
 */
export interface LogHarness {
  /** A fresh, not yet opened log over empty storage. */
  readonly log: ReplicatedLog;
  /** A new, not yet opened instance over the same storage; the suite closes the old one first. */
  reopen(): Promise<ReplicatedLog>;
  /** Closes whatever is still open and deletes the storage. */
  cleanup(): Promise<void>;
}

export function describeReplicatedLogContract(name: string, makeLog: () => Promise<LogHarness>): void {
  describe(`${name} satisfies the ReplicatedLog contract`, () => {
    let harness: LogHarness;
    let log: ReplicatedLog;

    beforeEach(async () => {
      harness = await makeLog();
      log = harness.log;
    });
    afterEach(() => harness.cleanup());

    async function reopen(): Promise<LogRecovery> {
      await log.close();
      log = await harness.reopen();
      return log.open();
    }

    it('recovers nothing from empty storage', async () => {
      expect(await log.open()).toEqual({ entries: [] });
    });

    it('assigns dense seqs from 1 and carries node, proposal and command unchanged', async () => {
      await log.open();
      const acked: LogEntry[] = [];
      for (let i = 1; i <= 5; i++) acked.push(await log.append(proposal(i)));
      expect(acked.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(acked[2]).toMatchObject({ node: 'node-a', proposal: 3, command: proposal(3).command });
    });

    it('never lets time go backwards, not even across a reopen', async () => {
      await log.open();
      const first: LogEntry[] = [];
      for (let i = 0; i < 20; i++) first.push(await log.append(proposal(i)));
      const burst = await Promise.all(range(20).map((i) => log.append(proposal(i))));
      const times = [...first, ...burst].sort(bySeq).map((e) => e.time);
      expect(times.every((t, i) => Number.isInteger(t) && t > 0 && t >= (times[i - 1] ?? 0))).toBe(true);
      await reopen();
      const after = await log.append(proposal(99));
      expect(after.time).toBeGreaterThanOrEqual(times[times.length - 1] as number);
    });

    it('hands every entry to the listener exactly once, in seq order', async () => {
      await log.open();
      const seen = listen(log);
      const acked = await Promise.all(range(50).map((i) => log.append(proposal(i))));
      for (let i = 0; i < 50; i++) acked.push(await log.append(proposal(i)));
      await seen.reach(100);
      expect(seen.entries.map((e) => e.seq)).toEqual(range(100).map((i) => i + 1));
      expect(seen.entries).toEqual(acked.sort(bySeq));
    });

    it.each([1, 2, 3])('keeps 200 concurrent appends dense, ordered and durable (round %i)', async () => {
      await log.open();
      const seen = listen(log);
      const acked = await Promise.all(range(200).map((i) => log.append(proposal(i))));
      expect(acked.map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(200).map((i) => i + 1));
      await seen.reach(200);
      expect(seen.entries).toEqual([...acked].sort(bySeq));
      expect((await reopen()).entries).toEqual([...acked].sort(bySeq));
    });

    it('carries values of every size and byte in one concurrent burst unchanged', async () => {
      await log.open();
      const seen = listen(log);
      const values = [Buffer.alloc(0), everyByte(256), everyByte(70_000), everyByte(600 * 1024), Buffer.from('é\u0000\u{1F600}')];
      const sent = values.map((value, i): Proposal => ({ node: 'node-a', proposal: i, command: { type: 'kv.set', key: `v/${i}`, value, flags: 0n } }));
      const acked = await Promise.all(sent.map((p) => log.append(p)));
      await seen.reach(values.length);
      expect(seen.entries).toEqual([...acked].sort(bySeq));
      expect(seen.entries.map((e) => e.command)).toEqual([...acked].sort(bySeq).map((e) => e.command));
      expect(acked.map((e) => e.command)).toEqual(sent.map((p) => p.command));
      expect((await reopen()).entries).toEqual([...acked].sort(bySeq));
    });

    it('returns every acknowledged entry after a reopen and continues the sequence', async () => {
      await log.open();
      const acked = await Promise.all(range(30).map((i) => log.append(proposal(i))));
      const recovery = await reopen();
      expect(recovery).toEqual({ entries: acked.sort(bySeq) });
      expect((await log.append(proposal(31))).seq).toBe(31);
    });

    it('returns the snapshot and exactly the entries after it', async () => {
      await log.open();
      const acked = await appendInOrder(log, 30);
      const data = everyByte(4096);
      await log.saveSnapshot(20, data);
      acked.push(...(await appendInOrder(log, 10)));
      const recovery = await reopen();
      expect(recovery.snapshot).toEqual({ seq: 20, data });
      expect(recovery.entries).toEqual(acked.filter((e) => e.seq > 20));
      expect((await log.append(proposal(41))).seq).toBe(41);
    });

    it('continues after a snapshot that covers every entry', async () => {
      await log.open();
      const acked = await appendInOrder(log, 10);
      await log.saveSnapshot(10, Buffer.from('state@10'));
      const recovery = await reopen();
      expect(recovery).toEqual({ snapshot: { seq: 10, data: Buffer.from('state@10') }, entries: [] });
      const next = await log.append(proposal(11));
      expect(next.seq).toBe(11);
      expect(next.time).toBeGreaterThanOrEqual((acked[9] as LogEntry).time);
    });

    it('reports the newest stored snapshot in its status', async () => {
      await log.open();
      expect(await log.snapshotStatus()).toEqual({ seq: 0, inProgress: false });
      await appendInOrder(log, 3);
      await log.saveSnapshot(2, Buffer.from('state at 2'));
      expect(await log.snapshotStatus()).toEqual({ seq: 2, inProgress: false });
      await reopen();
      expect((await log.snapshotStatus()).seq).toBe(2);
    });

    it('returns only the newest of several snapshots', async () => {
      await log.open();
      await appendInOrder(log, 10);
      await log.saveSnapshot(4, Buffer.from('old'));
      const later = await appendInOrder(log, 5);
      await log.saveSnapshot(12, Buffer.from('new'));
      const recovery = await reopen();
      expect(recovery.snapshot).toEqual({ seq: 12, data: Buffer.from('new') });
      expect(recovery.entries).toEqual(later.filter((e) => e.seq > 12));
    });

    it.each([1, 2, 3])('loses nothing when appends run concurrently with saveSnapshot (round %i)', async () => {
      await log.open();
      const seen = listen(log);
      const early = range(100).map((i) => log.append(proposal(i)));
      await seen.reach(50);
      const snapshotted = log.saveSnapshot(50, Buffer.from('state@50'));
      const late = range(100).map((i) => log.append(proposal(100 + i)));
      await snapshotted;
      const acked = await Promise.all([...early, ...late]);
      const recovery = await reopen();
      expect(recovery.snapshot).toEqual({ seq: 50, data: Buffer.from('state@50') });
      expect(recovery.entries).toEqual(acked.filter((e) => e.seq > 50).sort(bySeq));
      expect(recovery.entries.map((e) => e.seq)).toEqual(range(150).map((i) => i + 51));
    });

    it('lists an advertised node among its members, at its latest address', async () => {
      await log.open();
      log.advertise({ name: 'node-a', address: '127.0.0.1:8501' });
      log.advertise({ name: 'node-a', address: '127.0.0.1:8502' });
      // The Redis log's heartbeat goes out asynchronously; the listing follows it.
      const deadline = Date.now() + 5000;
      let members = await log.members();
      while (members.find((m) => m.address === '127.0.0.1:8502') === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        members = await log.members();
      }
      expect(members).toEqual([{ name: 'node-a', address: '127.0.0.1:8502' }]);
    });
  });
}

function proposal(i: number): Proposal {
  return {
    node: 'node-a',
    proposal: i,
    command: { type: 'kv.set', key: `app/${i}`, value: Buffer.from([i & 0xff, 0, 0xff]), flags: 2n ** 64n - 1n },
  };
}

async function appendInOrder(log: ReplicatedLog, count: number): Promise<LogEntry[]> {
  const acked: LogEntry[] = [];
  for (let i = 0; i < count; i++) acked.push(await log.append(proposal(i)));
  return acked;
}

/** Records what the listener gets; `reach(n)` resolves once n entries arrived, or rejects after timeoutMs. */
export function listen(log: ReplicatedLog): { entries: LogEntry[]; reach(count: number, timeoutMs?: number): Promise<void> } {
  const entries: LogEntry[] = [];
  const waiters: { count: number; resolve(): void }[] = [];
  log.onEntries((batch) => {
    entries.push(...batch);
    for (const waiter of waiters.filter((w) => entries.length >= w.count)) waiter.resolve();
  });
  return {
    entries,
    reach: (count, timeoutMs = 10_000) =>
      entries.length >= count
        ? Promise.resolve()
        : within(new Promise<void>((resolve) => waiters.push({ count, resolve })), timeoutMs, `${count} entries (have ${entries.length})`),
  };
}

export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function bySeq(a: LogEntry, b: LogEntry): number {
  return a.seq - b.seq;
}

function everyByte(length: number): Buffer {
  return Buffer.from(range(length).map((i) => (i * 31) & 0xff));
}
