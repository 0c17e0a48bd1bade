import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Command, LogEntry } from '../core/commands.js';
import { LogUnavailableError, type LogWriteOutcome } from '../log/log-unavailable-error.js';
import { type LogHealth, type LogMember, type LogRecovery, type Proposal, ReplicatedLog } from '../log/replicated-log.js';
import { Replica } from './replica.js';

interface Append {
  readonly proposal: Proposal;
  resolve(entry: LogEntry): void;
  reject(error: Error): void;
}

/**
 * A log whose appends settle when the test says, and whose entries reach the replica when the
 * test says: the Redis log's tailer may deliver an entry before its append resolves.
 */
class ScriptedLog extends ReplicatedLog {
  readonly appends: Append[] = [];
  private listener?: (entries: readonly LogEntry[]) => void;
  private seq = 0;

  override open(): Promise<LogRecovery> {
    return Promise.resolve({ entries: [] });
  }
  override onEntries(listener: (entries: readonly LogEntry[]) => void): void {
    this.listener = listener;
  }
  override append(proposal: Proposal): Promise<LogEntry> {
    return new Promise((resolve, reject) => this.appends.push({ proposal, resolve, reject }));
  }
  /** Applies the latest append's entry on the replica; returns it. */
  deliver(): LogEntry {
    const { node, proposal, command } = this.appends.at(-1)!.proposal;
    const entry = { seq: ++this.seq, time: Date.now(), node, proposal, command };
    this.listener!([entry]);
    return entry;
  }
  resolveLast(entry: LogEntry): void {
    this.appends.at(-1)!.resolve(entry);
  }
  rejectLast(outcome: LogWriteOutcome): void {
    this.appends.at(-1)!.reject(new LogUnavailableError(`append failed: ${outcome}`, outcome));
  }
  override saveSnapshot(): Promise<void> {
    return Promise.resolve();
  }
  override close(): Promise<void> {
    return Promise.resolve();
  }
  override onReset(): void {}
  override readIndex(): Promise<number> {
    return Promise.resolve(this.seq);
  }
  override health(): LogHealth {
    return { connected: true, lastContactMs: 0 };
  }
  override advertise(): void {}
  override members(): Promise<readonly LogMember[]> {
    return Promise.resolve([]);
  }
}

const SET: Command = { type: 'kv.set', key: 'k', value: Buffer.from('v'), flags: 0n };

async function started(): Promise<{ log: ScriptedLog; replica: Replica }> {
  const log = new ScriptedLog();
  const replica = new Replica(log, { nodeName: 'n', historySize: 100, versionsPerKey: 5, snapshotEvery: 1_000_000 });
  const starting = replica.start();
  await new Promise((resolve) => setImmediate(resolve));
  log.resolveLast(log.deliver()); // the opening noop
  await starting;
  return { log, replica };
}

/** Whether `promise` has settled once everything queued so far has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('Replica.propose', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('answers a write applied here only once its append resolved', async () => {
    const { log, replica } = await started();
    const write = replica.propose(SET);
    const entry = log.deliver();
    expect(await settled(write)).toBe(false);
    log.resolveLast(entry);
    await expect(write).resolves.toEqual({ ok: true });
  });

  it('fails a write applied here whose append reports too few replicas', async () => {
    const { log, replica } = await started();
    const write = replica.propose(SET);
    log.deliver();
    log.rejectLast('unreplicated');
    await expect(write).rejects.toThrow('append failed: unreplicated');
  });

  it('answers a write applied here whose append could not confirm it otherwise: it is in the log', async () => {
    const { log, replica } = await started();
    const write = replica.propose(SET);
    log.deliver();
    log.rejectLast('unknown');
    await expect(write).resolves.toEqual({ ok: true });
  });

  it('fails a write whose append failed before it was applied', async () => {
    const { log, replica } = await started();
    const write = replica.propose(SET);
    log.rejectLast('not-appended');
    await expect(write).rejects.toThrow('append failed: not-appended');
  });

  it('boots though no replica confirms the opening noop', async () => {
    const log = new ScriptedLog();
    const replica = new Replica(log, { nodeName: 'n', historySize: 100, versionsPerKey: 5, snapshotEvery: 1_000_000 });
    const starting = replica.start();
    await new Promise((resolve) => setImmediate(resolve));
    log.deliver();
    log.rejectLast('unreplicated');
    await expect(starting).resolves.toBeUndefined();
    expect(replica.state.index).toBe(1);
  });
});
