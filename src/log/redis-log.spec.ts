import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type RedisServer, startRedisServer } from '../../test/helpers/redis-server.js';
import { decodeJson } from '../core/codec.js';
import { LogUnavailableError } from './log-unavailable-error.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { appendInOrder, elapsedSince, listen, put, range, recordingLogger, RedisLogFixture, redisLogHarness, within } from './redis-log-fixture.js';
import { RedisConnection } from './redis-connection.js';
import { RedisLog } from './redis-log.js';
import { redisKeys } from './redis-keys.js';
import { defineLogScripts } from './redis-scripts.js';
import { READ_BYTES, scanStream } from './redis-stream.js';
import { LOCK_TTL_MS, SNAPSHOT_CHUNK_BYTES } from './redis-snapshot.js';
import { describeReplicatedLogContract } from './replicated-log.contract.js';
import type { Proposal, ReplicatedLog } from './replicated-log.js';
import type { LogEntry } from '../core/commands.js';

/** RedisLog on a private redis-server: the transport-neutral contract, then what only Redis has. */

let shared: RedisServer;
beforeAll(async () => {
  shared = await startRedisServer();
});
afterAll(() => shared.dispose());

// Every case gets its own prefix on one private server.
describeReplicatedLogContract(
  'RedisLog',
  redisLogHarness(() => shared),
);

describe('RedisLog on one Redis', () => {
  let fixture: RedisLogFixture;
  beforeEach(() => {
    fixture = new RedisLogFixture(shared);
  });
  afterEach(() => fixture.cleanup());

  it('delivers every entry to two nodes in the same dense order while both append', async () => {
    const { a, b } = await fixture.twoNodes();
    const seenA = listen(a);
    const seenB = listen(b);
    const acked = await Promise.all(range(100).flatMap((i) => [a.append(put(i, 'a')), b.append(put(i, 'b'))]));
    await expectOneDenseOrder(acked, seenA, seenB);
    expect(new Set(seenA.entries.map((e) => e.node))).toEqual(new Set(['a', 'b']));
  });

  it('delivers every entry exactly once and in order while two nodes keep appending, whichever way each arrives', async () => {
    // Each node keeps 32 appends outstanding, so most entries reach it in its own append
    // replies; bursts of the other node's entries beyond what a reply carries reach it
    // through the stream. Both ways must add up to one dense sequence.
    const { a, b } = await fixture.twoNodes();
    const seenA = listen(a);
    const seenB = listen(b);
    const [fromA, burstB, fromB] = await Promise.all([
      keepAppending(a, 'a', 1500, 32),
      Promise.all(range(1500).map((i) => b.append(put(i, 'b')))),
      keepAppending(b, 'b', 500, 8, 1500),
    ]);
    await expectOneDenseOrder([...fromA, ...burstB, ...fromB], seenA, seenB);
  });

  it('delivers the same dense order to two nodes appending large values at once, beyond what a reply may carry', async () => {
    const { a, b } = await fixture.twoNodes();
    const seenA = listen(a);
    const seenB = listen(b);
    const large = (i: number, node: string): Proposal => ({ node, proposal: i, command: { type: 'kv.set', key: `big/${node}/${i}`, value: Buffer.alloc(768 * 1024, i), flags: 0n } });
    const acked = await Promise.all(range(24).flatMap((i) => [a.append(large(i, 'a')), b.append(large(i, 'b'))]));
    // Summarised: jest compares large Buffers byte by byte, very slowly.
    await expectOneDenseOrder(acked, seenA, seenB, (e) => `${e.seq} ${e.node} ${e.proposal} ${e.command.type === 'kv.set' ? createHash('sha256').update(e.command.value).digest('hex') : '-'}`);
  });

  it('reads a log of large values back in pages no larger than one bounded read', async () => {
    const writer = fixture.log({ nodeName: 'writer' });
    await writer.open();
    const large = (i: number): Proposal => ({ node: 'writer', proposal: i, command: { type: 'kv.set', key: `big/${i}`, value: Buffer.alloc(500 * 1024, i), flags: 0n } });
    await Promise.all(range(40).map((i) => writer.append(large(i))));
    const reader = new RedisConnection({ url: shared.url }, 'switchboard:test:scan', recordingLogger(), 5000);
    reader.connect();
    expect(await reader.whenReady(Date.now() + 5000)).toBe(true);
    const pages: number[][] = [];
    try {
      await scanStream(reader, redisKeys(fixture.prefix), 1, () => Date.now() + 5000, (page) => {
        pages.push(page.map(({ entry }) => (entry.command.type === 'kv.set' ? entry.command.value.length : 0)));
      });
    } finally {
      await reader.close();
    }
    // 20 MB of values: one XRANGE of 1,000 would have returned them all at once.
    expect(pages.flat()).toHaveLength(40);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(page.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThanOrEqual(READ_BYTES);
  });

  it('opens while another node keeps appending: it reads the log to its end as each read found it', async () => {
    const a = fixture.log({ nodeName: 'a' });
    await a.open();
    await appendInOrder(a, 50);
    let writing = true;
    const appending = appendWhile(a, 'a', () => writing, 8, 50);
    try {
      const b = fixture.log({ nodeName: 'b' });
      let opened = 0;
      const sent = await fixture.commandsDuring(['switchboard:b:commands'], async () => {
        opened = (await within(b.open(), 5000, 'open() while appends keep coming')).entries.length;
      });
      expect(opened).toBeGreaterThanOrEqual(50);
      // Fewer than 1,000 entries: one read (the script with the log, epoch and seq keys) reaches the
      // end as it found it. Reading on until a read came back empty took more, for as long as the
      // appends kept landing between reads. (A NOSCRIPT retry repeats a read's arguments.)
      const reads = (sent.get('switchboard:b:commands') ?? []).filter(([command, , keys]) => command?.startsWith('eval') && keys === '3');
      expect(new Set(reads.map((read) => read.join(' '))).size).toBe(1);
    } finally {
      writing = false;
      await appending;
    }
  });

  it('learns the log from its append replies while it keeps appending, instead of reading back what it sent', async () => {
    const log = fixture.log({ nodeName: 'writer' });
    await log.open();
    const seen = listen(log);
    const sent = await fixture.commandsDuring(['switchboard:writer:commands', 'switchboard:writer:tail'], async () => {
      await keepAppending(log, 'node-a', 3000, 64);
      await seen.reach(3000);
    });
    // One script call per batch; the tailer reads (XREAD, or the read script) only when the appends pause.
    const batches = (sent.get('switchboard:writer:commands') ?? []).filter(([command]) => command?.startsWith('eval')).length;
    const reads = sent.get('switchboard:writer:tail') ?? [];
    expect(batches).toBeGreaterThan(10);
    expect(reads.length).toBeLessThan(batches / 4);
    expect(seen.entries.map((e) => e.seq)).toEqual(range(3000, 1));
  });

  it('splits one turn of appends too large for one script call into batches, in order', async () => {
    const log = fixture.log();
    await log.open();
    const value = Buffer.alloc(512 * 1024, 7);
    const sent = range(40).map((i) => ({ node: 'node-a', proposal: i, command: { type: 'kv.set' as const, key: `big/${i}`, value, flags: 0n } }));
    const acked = await Promise.all(sent.map((proposal) => log.append(proposal)));
    expect(acked.map((e) => e.seq)).toEqual(range(40, 1));
    expect(acked.map((e) => e.proposal)).toEqual(range(40));
    expect(await fixture.admin().xlen(`{${fixture.prefix}}:log`)).toBe(40);
  });

  it('stores seq as the stream id, time beside it and the proposal as codec bytes', async () => {
    const log = fixture.log();
    await log.open();
    const entry = await log.append(put(7));
    const [[id, fields]] = (await fixture.admin().xrangeBuffer(`{${fixture.prefix}}:log`, '-', '+')) as [[Buffer, Buffer[]]];
    expect(id.toString()).toBe('1-1');
    const [p, payload, t, time] = fields;
    expect([p?.toString(), t?.toString(), time?.toString()]).toEqual(['p', 't', String(entry.time)]);
    expect(decodeJson(payload as Buffer)).toEqual({ node: 'node-a', proposal: 7, command: put(7).command });
  });

  it('lets only one of two nodes store a snapshot at a time', async () => {
    const { a, b } = await fixture.twoNodes();
    await appendInOrder(a, 10);
    await Promise.all([a.saveSnapshot(10, Buffer.from('from a')), b.saveSnapshot(10, Buffer.from('from b'))]);
    const stored = [a, b].filter((log) => fixture.messages(log).some((m) => m.startsWith('stored the snapshot at seq 10')));
    expect(stored).toHaveLength(1);
    const recovery = await fixture.log().open();
    expect(recovery.snapshot).toEqual({ seq: 10, data: Buffer.from(stored[0] === a ? 'from a' : 'from b') });
  });

  it('does nothing while another node holds the snapshot lock', async () => {
    const log = fixture.log();
    await log.open();
    await appendInOrder(log, 5);
    await fixture.admin().set(`{${fixture.prefix}}:snap-lock`, 'someone-else', 'PX', 60_000);
    await log.saveSnapshot(5, Buffer.from('s'));
    expect(await fixture.admin().exists(`{${fixture.prefix}}:snap`)).toBe(0);
    expect(fixture.messages(log)).toContain('skipped the snapshot at seq 5: another node is storing one');
  });

  it("reports another node's snapshot lock and stored snapshot, so this node need not encode one", async () => {
    const { a, b } = await fixture.twoNodes();
    await appendInOrder(a, 8);
    await fixture.admin().set(`{${fixture.prefix}}:snap-lock`, 'a/incarnation', 'PX', 60_000);
    expect(await b.snapshotStatus()).toEqual({ seq: 0, inProgress: true });
    await fixture.admin().del(`{${fixture.prefix}}:snap-lock`);
    await a.saveSnapshot(8, Buffer.from('from a'));
    expect(await b.snapshotStatus()).toEqual({ seq: 8, inProgress: false });
  });

  it('takes the snapshot lock for seconds, renewing it with every group of chunks it writes', async () => {
    const log = fixture.log({ nodeName: 'locker' });
    await log.open();
    await appendInOrder(log, 3);
    const lock = `{${fixture.prefix}}:snap-lock`;
    // Nine chunks go out in three groups of at most four.
    const sent = await fixture.commandsDuring(['switchboard:locker:commands'], () => log.saveSnapshot(3, Buffer.alloc(9 * SNAPSHOT_CHUNK_BYTES, 7)));
    const commands = sent.get('switchboard:locker:commands') ?? [];
    const taken = commands.find(([command, key]) => command === 'set' && key === lock);
    expect(taken).toEqual(['set', lock, expect.any(String), 'PX', String(LOCK_TTL_MS), 'NX']);
    expect(LOCK_TTL_MS).toBeLessThanOrEqual(10_000);
    // The renew script's call: `evalsha <sha> 1 <lock> <value> <ttl>` (the release has no ttl).
    const renewals = commands.filter(([command, , keyCount, key, , ttl]) => command?.startsWith('eval') && keyCount === '1' && key === lock && ttl === String(LOCK_TTL_MS));
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(await fixture.admin().exists(lock)).toBe(0);
  });

  it('stores a multi-chunk snapshot and deletes the chunks of the one it replaces', async () => {
    const log = fixture.log();
    await log.open();
    await appendInOrder(log, 3);
    const big = Buffer.alloc(2 * SNAPSHOT_CHUNK_BYTES + 17, 7);
    await log.saveSnapshot(2, big);
    const chunkKeys = (): Promise<string[]> => fixture.admin().keys(`{${fixture.prefix}}:snap:*`);
    expect(await chunkKeys()).toHaveLength(3);
    await log.saveSnapshot(3, Buffer.from('small'));
    expect(await chunkKeys()).toHaveLength(1);
    expect(await fixture.admin().ttl((await chunkKeys())[0] as string)).toBe(-1);
    expect((await fixture.log().open()).snapshot).toEqual({ seq: 3, data: Buffer.from('small') });
  });

  it('refuses a snapshot beyond the last seq', async () => {
    const log = fixture.log();
    await log.open();
    await log.append(put(1));
    await expect(log.saveSnapshot(2, Buffer.from('s'))).rejects.toThrow(/cannot snapshot at seq 2: the log ends at seq 1/);
  });

  it.each([
    // entries, snapshot seq, retained, first seq kept
    [50, 45, 10, 41],
    [50, 20, 10, 21],
    [50, 50, 100, 1],
    [50, 50, 1, 50],
  ])('after %i entries and a snapshot at %i, retaining %i keeps the stream from seq %i', async (count, snapSeq, retainedEntries, firstKept) => {
    const log = fixture.log({ retainedEntries });
    await log.open();
    await appendInOrder(log, count);
    await log.saveSnapshot(snapSeq, Buffer.from('s'));
    const ids = (await fixture.admin().xrange(`{${fixture.prefix}}:log`, '-', '+')).map(([id]) => id);
    expect(ids).toEqual(range(count - firstKept + 1, firstKept).map((seq) => `${seq}-1`));
  });

  it('trims in bounded steps, then exactly to the retained tail', async () => {
    const admin = fixture.admin();
    const [, nodeEntries] = (await admin.config('GET', 'stream-node-max-entries')) as [string, string];
    // Stream nodes of 10 entries, so 200 entries make the 20 nodes the steps remove 2 at a time.
    await admin.config('SET', 'stream-node-max-entries', '10');
    try {
      const log = fixture.log({ retainedEntries: 5, trimStepEntries: 20 });
      await log.open();
      await appendInOrder(log, 200);
      await admin.config('RESETSTAT');
      await log.saveSnapshot(200, Buffer.from('s'));
      const ids = (await admin.xrange(`{${fixture.prefix}}:log`, '-', '+')).map(([id]) => id);
      expect(ids).toEqual(range(5, 196).map((seq) => `${seq}-1`));
      // One XTRIM of the 195 entries before the change; now one per step of at most 20.
      const xtrims = /cmdstat_xtrim:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1];
      expect(Number(xtrims)).toBeGreaterThanOrEqual(10);
    } finally {
      await admin.config('SET', 'stream-node-max-entries', nodeEntries);
    }
  });

  it('switching makes the new chunks permanent and gives the replaced ones a TTL, so a writer that dies before deleting them leaves nothing for long', async () => {
    // The switch as writeSnapshot calls it, stopped where a writer killed after the switch would
    // stop: before its deletes.
    const keys = redisKeys(fixture.prefix);
    const log = fixture.log();
    await log.open();
    await appendInOrder(log, 4);
    await log.saveSnapshot(2, Buffer.alloc(2 * SNAPSHOT_CHUNK_BYTES, 1));
    const admin = fixture.admin();
    const current = (await admin.get(keys.snapshot)) as string;
    const replaced = (JSON.parse(current) as { chunkKeys: string[] }).chunkKeys;
    const fresh = [keys.snapshotChunk('4.killed', 0)];
    await admin.set(fresh[0] as string, 'new bytes', 'PX', 60_000);
    const epoch = (await admin.get(keys.epoch)) as string;
    const meta = JSON.stringify({ seq: 4, epoch, chunkKeys: fresh, bytes: 9, crc: 0 });
    const scripts = defineLogScripts(admin);
    const switched = await scripts.sbSwitchSnapshot(
      4 + replaced.length + fresh.length,
      ...[keys.snapshot, keys.epoch, keys.seq, keys.log, ...replaced, ...fresh],
      ...[current, meta, epoch, 4, 100_000, replaced.length, 60_000],
    );
    expect(switched[0]).toBe('ok');
    expect(await admin.pttl(fresh[0] as string)).toBe(-1);
    for (const key of replaced) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('refuses a trim step on a log whose epoch is not the one the seq came from', async () => {
    // As when Redis was replaced between the snapshot switch and the trim: the new history's
    // entries are covered by no snapshot, so the old history's seq must not trim them.
    const keys = redisKeys(fixture.prefix);
    const log = fixture.log();
    await log.open();
    await appendInOrder(log, 20);
    const scripts = defineLogScripts(fixture.admin());
    await expect(scripts.sbTrimLog(keys.epoch, keys.log, 'another-history', 15, 100)).rejects.toThrow(/^SBEPOCH/);
    expect(await scripts.xlen(keys.log)).toBe(20);
  });

  it('opens a node after trimming with the snapshot and the rest', async () => {
    const a = fixture.log({ retainedEntries: 5 });
    await a.open();
    const acked = await appendInOrder(a, 50);
    await a.saveSnapshot(40, Buffer.from('state@40'));
    const late = fixture.log();
    const recovery = await late.open();
    expect(recovery).toEqual({ snapshot: { seq: 40, data: Buffer.from('state@40') }, entries: acked.slice(40) });
    const seen = listen(late);
    const next = await a.append(put(51));
    await seen.reach(1);
    expect(seen.entries).toEqual([next]);
  });

  it('keeps clusters with different prefixes apart on one Redis', async () => {
    const other = new RedisLogFixture(shared);
    try {
      const a = fixture.log();
      const b = other.log();
      await a.open();
      await b.open();
      const seenA = listen(a);
      const seenB = listen(b);
      const [fromA, fromB] = await Promise.all([appendInOrder(a, 3), appendInOrder(b, 5, 100)]);
      await Promise.all([seenA.reach(3), seenB.reach(5)]);
      expect(seenA.entries).toEqual(fromA);
      expect(seenB.entries).toEqual(fromB);
      expect(fromA.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(fromB.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      const keys = await fixture.admin().keys('*');
      expect(keys.filter((k) => k.startsWith(`{${fixture.prefix}}:`) || k.startsWith(`{${other.prefix}}:`))).toHaveLength(keys.filter((k) => k.includes(fixture.prefix) || k.includes(other.prefix)).length);
    } finally {
      await other.cleanup();
    }
  });

  it('answers readIndex with the last seq and reports health', async () => {
    const log = fixture.log();
    await log.open();
    await appendInOrder(log, 4);
    expect(await log.readIndex()).toBe(4);
    expect(log.health().connected).toBe(true);
    expect(log.health().lastContactMs).toBeLessThan(2000);
  });

  it('lists the live members sorted by name and drops one at once when it closes', async () => {
    const [b, a, c] = [fixture.log({ nodeName: 'b' }), fixture.log({ nodeName: 'a' }), fixture.log({ nodeName: 'c' })];
    await Promise.all([a.open(), b.open(), c.open()]);
    for (const [log, name, host] of [[a, 'a', 1], [b, 'b', 2], [c, 'c', 3]] as const) log.advertise({ name, address: `10.0.0.${host}:8500` });
    await waitFor(async () => (await a.members()).length === 3, 5000, 'three members');
    expect(await c.members()).toEqual([
      { name: 'a', address: '10.0.0.1:8500' },
      { name: 'b', address: '10.0.0.2:8500' },
      { name: 'c', address: '10.0.0.3:8500' },
    ]);
    await b.close();
    expect((await a.members()).map((m) => m.name)).toEqual(['a', 'c']);
  });

  it('keeps a member listed by renewing its heartbeat, and forgets one whose heartbeat expired', async () => {
    const log = fixture.log({ nodeName: 'alive', memberTtlMs: 300 });
    await log.open();
    log.advertise({ name: 'alive', address: '10.0.0.1:8500' });
    // A node killed without closing: its key outlives it by at most its TTL.
    const admin = fixture.admin();
    await admin.set(`{${fixture.prefix}}:member:dead`, JSON.stringify({ address: '10.0.0.9:8500', incarnation: 'x' }), 'PX', 300);
    await admin.sadd(`{${fixture.prefix}}:members`, 'dead');
    await waitFor(async () => (await log.members()).length === 2, 5000, 'both members');
    // The property under test is a lapse of time: the dead key expires, the live one is renewed.
    const until = Date.now() + 1000;
    await waitFor(() => Date.now() > until, 2000, 'three TTLs');
    expect(await log.members()).toEqual([{ name: 'alive', address: '10.0.0.1:8500' }]);
    expect(await admin.smembers(`{${fixture.prefix}}:members`)).toEqual(['alive']);
  });

  it('does not delete the heartbeat of a newer incarnation with the same name when closing', async () => {
    const old = fixture.log({ nodeName: 'same' });
    const successor = fixture.log({ nodeName: 'same' });
    await Promise.all([old.open(), successor.open()]);
    old.advertise({ name: 'same', address: '10.0.0.1:8500' });
    await waitFor(async () => (await old.members()).length === 1, 5000, 'the old incarnation listed');
    successor.advertise({ name: 'same', address: '10.0.0.2:8500' });
    await waitFor(async () => (await old.members())[0]?.address === '10.0.0.2:8500', 5000, 'the successor listed');
    await old.close();
    expect(await successor.members()).toEqual([{ name: 'same', address: '10.0.0.2:8500' }]);
  });

  it('rejects appends after close and closes twice harmlessly', async () => {
    const log = fixture.log();
    await log.open();
    const pending = range(20).map((i) => log.append(put(i)));
    await log.close();
    expect(await Promise.all(pending)).toHaveLength(20);
    await expect(log.append(put(99))).rejects.toThrow(/closed/);
    await log.close();
  });

  it('rejects an append with LogUnavailableError when WAIT finds too few replicas', async () => {
    const log = fixture.log({ waitReplicas: 1, waitTimeoutMs: 300, writeTimeoutMs: 3000 });
    await log.open();
    const start = Date.now();
    const error = await log.append(put(1)).catch((e: unknown) => e);
    const elapsed = elapsedSince(start);
    expect(error).toBeInstanceOf(LogUnavailableError);
    expect((error as LogUnavailableError).outcome).toBe('unreplicated');
    expect((error as Error).message).toMatch(/only 0 of 1 required Redis replicas/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 300);
  });
});

/** A closed loop of `outstanding` appenders making `count` appends in all. */
function keepAppending(log: ReplicatedLog, node: string, count: number, outstanding: number, from = 0): Promise<LogEntry[]> {
  return appendWhile(log, node, (next) => next < from + count, outstanding, from);
}

/** A closed loop of `outstanding` appenders, numbering appends from `from`, while `more(next)` holds. */
async function appendWhile(log: ReplicatedLog, node: string, more: (next: number) => boolean, outstanding: number, from = 0): Promise<LogEntry[]> {
  const acked: LogEntry[] = [];
  let next = from;
  const appender = async (): Promise<void> => {
    while (more(next)) acked.push(await log.append(put(next++, node)));
  };
  await Promise.all(range(outstanding).map(appender));
  return acked;
}

/** Every acknowledged entry reached both nodes once, in one dense order from seq 1 (compared as `view` shows them). */
async function expectOneDenseOrder(
  acked: readonly LogEntry[],
  seenA: ReturnType<typeof listen>,
  seenB: ReturnType<typeof listen>,
  view: (entry: LogEntry) => unknown = (entry) => entry,
): Promise<void> {
  expect(acked.map((e) => e.seq).sort((x, y) => x - y)).toEqual(range(acked.length, 1));
  await Promise.all([seenA.reach(acked.length), seenB.reach(acked.length)]);
  expect(seenA.entries.map((e) => e.seq)).toEqual(range(acked.length, 1));
  expect(seenB.entries.map(view)).toEqual(seenA.entries.map(view));
  expect(seenA.entries.map(view)).toEqual([...acked].sort((x, y) => x.seq - y.seq).map(view));
}

describe('RedisLog options', () => {
  it.each([
    ['retainedEntries', 2.5],
    ['trimStepEntries', 0],
  ])('refuses %s = %d before connecting: entry counts are whole numbers > 0', (option, value) => {
    expect(() => new RedisLog({ url: 'redis://127.0.0.1:1', nodeName: 'options', [option]: value })).toThrow(
      new RangeError(`${option} must be a whole number > 0, got ${value}`),
    );
  });
});
