import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LogEntry } from '../core/commands.js';
import { countingSegments, deferred, FileLogFixture, fileLogHarness, put } from './file-log-fixture.js';
import { describeReplicatedLogContract } from './replicated-log.contract.js';

describeReplicatedLogContract('FileLog', fileLogHarness);

describe('FileLog appends', () => {
  let fixture: FileLogFixture;
  beforeEach(async () => {
    fixture = await FileLogFixture.create();
  });
  afterEach(() => fixture.cleanup());

  it('assigns seqs in append() call order', async () => {
    const log = fixture.log();
    await log.open();
    const acked = await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(put(i))));
    expect(acked.map((e) => e.proposal)).toEqual(acked.map((e) => e.seq - 1));
  });

  it('writes appends made in one tick as one batch, in one durable write', async () => {
    const io = countingSegments();
    const log = fixture.log({ openSegment: io.openSegment });
    await log.open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(put(i))));
    expect(io.counts).toEqual({ durableWrites: 1 });
  });

  it('batches appends that arrive while a durable write is in flight, acking none before it completes', async () => {
    const firstWriteStarted = deferred();
    const releaseFirstWrite = deferred();
    const io = countingSegments(async (writeNumber) => {
      if (writeNumber !== 1) return;
      firstWriteStarted.resolve();
      await releaseFirstWrite.promise;
    });
    const log = fixture.log({ openSegment: io.openSegment });
    await log.open();
    const batches: number[][] = [];
    log.onEntries((entries) => batches.push(entries.map((e) => e.seq)));

    let firstAcked = false;
    const first = log.append(put(0)).then((entry) => ((firstAcked = true), entry));
    await firstWriteStarted.promise;
    const rest = Array.from({ length: 50 }, (_, i) => log.append(put(i + 1)));
    expect(firstAcked).toBe(false);
    expect(batches).toEqual([]);

    releaseFirstWrite.resolve();
    await Promise.all([first, ...rest]);
    expect(io.counts).toEqual({ durableWrites: 2 });
    expect(batches).toEqual([[1], Array.from({ length: 50 }, (_, i) => i + 2)]);
  });

  it('hands a batch to the listener before any of its appends resolve', async () => {
    const log = fixture.log();
    await log.open();
    const resolved = new Set<number>();
    const resolvedAtDelivery: number[] = [];
    log.onEntries(() => resolvedAtDelivery.push(resolved.size));
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(put(i)).then((e) => resolved.add(e.seq))));
    expect(resolvedAtDelivery).toEqual([0]);
  });

  it('rejects a whole batch whose durable write fails, and every append after it, with that error', async () => {
    const diskError = new Error('EIO: simulated write failure');
    const io = countingSegments((writeNumber) => (writeNumber === 2 ? Promise.reject(diskError) : Promise.resolve()));
    const log = fixture.log({ openSegment: io.openSegment });
    await log.open();
    const delivered: LogEntry[] = [];
    log.onEntries((entries) => delivered.push(...entries));
    await log.append(put(0));

    const failed = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(put(i + 1))));
    expect(failed.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : r.status))).toEqual(Array(5).fill(diskError));
    await expect(log.append(put(9))).rejects.toBe(diskError);
    await expect(log.saveSnapshot(1, Buffer.from('x'))).rejects.toBe(diskError);
    expect(delivered.map((e) => e.seq)).toEqual([1]);

    await log.close();
    const again = fixture.log();
    const recovery = await again.open();
    expect(recovery.entries[0]?.seq).toBe(1);
  });

  it('flushes pending appends on close, then refuses new ones', async () => {
    const log = fixture.log();
    await log.open();
    const pending = Array.from({ length: 20 }, (_, i) => log.append(put(i)));
    await log.close();
    expect((await Promise.all(pending)).length).toBe(20);
    await expect(log.append(put(99))).rejects.toThrow(/closed/);
    expect((await fixture.log().open()).entries).toHaveLength(20);
  });

  it('carries the time forward across a restart even if the clock stepped back', async () => {
    const log = fixture.log();
    await log.open();
    const future = Date.now() + 3_600_000;
    const realNow = Date.now;
    Date.now = () => future;
    try {
      await log.append(put(1));
    } finally {
      Date.now = realNow;
    }
    await log.saveSnapshot(1, Buffer.from('s'));
    await log.close();
    const again = fixture.log();
    await again.open();
    expect((await again.append(put(2))).time).toBe(future);
  });

  it('answers readIndex with the last durable seq and is always healthy', async () => {
    const log = fixture.log();
    await expect(log.readIndex()).rejects.toThrow(/is new/);
    await log.open();
    expect(await log.readIndex()).toBe(0);
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(put(i))));
    expect(await log.readIndex()).toBe(5);
    expect(log.health()).toEqual({ connected: true, lastContactMs: 0 });
  });

  it('refuses a second open() and a snapshot beyond the durable seq', async () => {
    const log = fixture.log();
    await log.open();
    await log.append(put(1));
    await expect(log.open()).rejects.toThrow(/only once/);
    await expect(log.saveSnapshot(2, Buffer.from('s'))).rejects.toThrow(/durable only up to seq 1/);
  });
});

describe('FileLog snapshot truncation', () => {
  let fixture: FileLogFixture;
  beforeEach(async () => {
    fixture = await FileLogFixture.create();
  });
  afterEach(() => fixture.cleanup());

  it('rolls the segment and deletes only segments whose every entry is covered', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 10; i++) await log.append(put(i));
    await log.saveSnapshot(5, Buffer.from('s5'));
    // wal-1 still holds 6..10, so it stays.
    expect(await fixture.files()).toEqual(['LOCK', seg(1), seg(11), snap(5)].sort());

    for (let i = 11; i <= 15; i++) await log.append(put(i));
    await log.saveSnapshot(12, Buffer.from('s12'));
    expect(await fixture.files()).toEqual(['LOCK', seg(11), seg(16), snap(12)].sort());

    await log.saveSnapshot(15, Buffer.from('s15'));
    expect(await fixture.files()).toEqual(['LOCK', seg(16), snap(15)].sort());
    await log.close();
    expect(await fixture.files()).toEqual([seg(16), snap(15)].sort());
  });
});

function seg(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(20, '0')}.log`;
}

function snap(seq: number): string {
  return `snapshot-${String(seq).padStart(20, '0')}.snap`;
}
