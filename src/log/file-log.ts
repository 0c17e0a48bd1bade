import { mkdir, readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LogEntry } from '../core/commands.js';
import { DataDirLock } from './data-dir-lock.js';
import { fsyncDir } from './durable-fs.js';
import { recoverLog } from './log-recovery.js';
import { encodeRecord, MAX_PAYLOAD_BYTES, RECORD_HEADER_BYTES } from './record-format.js';
import { type LogHealth, type LogMember, type LogRecovery, type Proposal, ReplicatedLog, type ResetListener, type SnapshotStatus } from './replicated-log.js';
import { createSegmentFile, openSegmentFile, type OpenSegmentFile } from './segment-file.js';
import { SegmentWriter } from './segment-writer.js';
import { removeSnapshotsBelow, writeSnapshotFile } from './snapshot-file.js';

export interface FileLogLogger {
  warn(message: string): void;
  log(message: string): void;
}

export interface FileLogOptions {
  readonly dataDir: string;
  /** @default console */
  readonly logger?: FileLogLogger;
  /** Test seam: opens a segment for appending (wrap the default to count, delay or fail I/O). */
  readonly openSegment?: OpenSegmentFile;
}

type Listener = (entries: readonly LogEntry[]) => void;
type Phase = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * The embedded, single-node ReplicatedLog: segment files plus snapshots in one data directory
 * guarded by a PID lock. seq and time are assigned synchronously in append(), so seq order is
 * call order; time is max(now, previous time) and is persisted, so it never goes backwards,
 * not even across a restart with a clock stepped back. Durability: SegmentWriter; crash
 * recovery: recoverLog; file formats: record-format.ts and snapshot-file.ts.
 */
export class FileLog extends ReplicatedLog {
  private readonly dir: string;
  private readonly logger: FileLogLogger;
  private readonly openSegment: OpenSegmentFile;
  private readonly listeners: Listener[] = [];
  private readonly resetListeners: ResetListener[] = [];
  private phase: Phase = 'new';
  private lock?: DataDirLock;
  private writer?: SegmentWriter;
  private lastSeq = 0;
  private lastTime = 0;
  private snapshotSeq = 0;
  private self?: LogMember;
  private snapshots: Promise<void> = Promise.resolve();
  private opening?: Promise<unknown>;
  private closing?: Promise<void>;

  constructor(options: FileLogOptions) {
    super();
    this.dir = options.dataDir;
    this.logger = options.logger ?? console;
    this.openSegment = options.openSegment ?? openSegmentFile;
  }

  override open(): Promise<LogRecovery> {
    if (this.phase !== 'new') return Promise.reject(new Error('FileLog.open() may be called only once'));
    this.phase = 'opening';
    const opening = this.recover();
    this.opening = opening;
    return opening;
  }

  private async recover(): Promise<LogRecovery> {
    const warn = (message: string): void => this.logger.warn(message);
    try {
      await makeDirDurably(this.dir);
      this.lock = await DataDirLock.acquire(this.dir, warn);
      const recovered = await recoverLog(this.dir, warn);
      const segments = recovered.segments;
      let tail = segments.at(-1);
      if (!recovered.lastSegmentContinues || tail === undefined) {
        const firstSeq = recovered.lastSeq + 1;
        tail = { firstSeq, path: await createSegmentFile(this.dir, firstSeq) };
        segments.push(tail);
      }
      const active = await this.openSegment(tail.path);
      this.writer = new SegmentWriter({
        dir: this.dir,
        segments,
        active,
        durableSeq: recovered.lastSeq,
        openSegment: this.openSegment,
        onDurable: (entries) => this.deliver(entries),
      });
      this.lastSeq = recovered.lastSeq;
      this.lastTime = recovered.lastTime;
      this.snapshotSeq = recovered.snapshot?.seq ?? 0;
      this.phase = 'open';
      this.logger.log(
        `log opened in ${this.dir}: snapshot at seq ${this.snapshotSeq}, ${recovered.entries.length} entries after it, next seq ${this.lastSeq + 1}`,
      );
      const { snapshot, entries } = recovered;
      return snapshot === undefined ? { entries } : { snapshot: { seq: snapshot.seq, data: snapshot.data }, entries };
    } catch (error) {
      this.phase = 'closed';
      await this.lock?.release();
      throw error;
    }
  }

  override onEntries(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Kept for the port's sake: one process owns this directory, so its history never changes under it. */
  override onReset(listener: ResetListener): void {
    this.resetListeners.push(listener);
  }

  override readIndex(): Promise<number> {
    const writer = this.writer;
    if (this.phase !== 'open' || writer === undefined) {
      return Promise.reject(new Error(`cannot read the index: the log in ${this.dir} is ${this.phase}`));
    }
    return Promise.resolve(writer.durableSeq);
  }

  override health(): LogHealth {
    return { connected: true, lastContactMs: 0 };
  }

  /** One process owns the directory, so the cluster is just this node. */
  override advertise(member: LogMember): void {
    this.self = member;
  }

  override members(): Promise<readonly LogMember[]> {
    return Promise.resolve(this.self === undefined ? [] : [this.self]);
  }

  // Everything up to submit() runs synchronously in the caller's turn, which is what makes seq
  // order equal append() call order; failures are rejections, never throws.
  override append(proposal: Proposal): Promise<LogEntry> {
    const writer = this.writer;
    if (this.phase !== 'open' || writer === undefined) {
      return Promise.reject(new Error(`cannot append: the log in ${this.dir} is ${this.phase}`));
    }
    if (writer.failure !== undefined) return Promise.reject(writer.failure);
    const { node, proposal: id, command } = proposal;
    const entry: LogEntry = {
      seq: this.lastSeq + 1,
      time: Math.max(Date.now(), this.lastTime),
      node,
      proposal: id,
      command,
    };
    let record: Buffer;
    try {
      record = encodeRecord(entry);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (record.length - RECORD_HEADER_BYTES > MAX_PAYLOAD_BYTES) {
      return Promise.reject(new RangeError(`entry of ${record.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte record limit`));
    }
    this.lastSeq = entry.seq;
    this.lastTime = entry.time;
    return writer.submit(entry, record);
  }

  /**
   * Snapshot first (durable before anything relies on it), then roll the segment so entries
   * <= seq sit in closed segments, then delete those. A crash between any two steps leaves a
   * directory recoverLog accepts. Snapshots run one at a time; appends carry on meanwhile.
   */
  override saveSnapshot(seq: number, data: Buffer): Promise<void> {
    const writer = this.writer;
    if (this.phase !== 'open' || writer === undefined) {
      return Promise.reject(new Error(`cannot save a snapshot: the log in ${this.dir} is ${this.phase}`));
    }
    const run = this.snapshots.then(() => this.writeSnapshot(writer, seq, data));
    this.snapshots = run.then(noop, noop);
    return run;
  }

  /** This node is the only writer, and its replica takes snapshots one at a time. */
  override snapshotStatus(): Promise<SnapshotStatus> {
    return Promise.resolve({ seq: this.snapshotSeq, inProgress: false });
  }

  override close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async writeSnapshot(writer: SegmentWriter, seq: number, data: Buffer): Promise<void> {
    if (writer.failure !== undefined) throw writer.failure;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`snapshot seq must be a whole number >= 0, got ${seq}`);
    if (seq > writer.durableSeq) {
      throw new RangeError(`cannot snapshot at seq ${seq}: the log is durable only up to seq ${writer.durableSeq}`);
    }
    if (seq < this.snapshotSeq) {
      throw new RangeError(`cannot snapshot at seq ${seq}: a newer snapshot at seq ${this.snapshotSeq} exists`);
    }
    await writeSnapshotFile(this.dir, { seq, time: this.lastTime, data });
    this.snapshotSeq = seq;
    await removeSnapshotsBelow(this.dir, await readdir(this.dir), seq);
    await writer.roll();
    await writer.dropSegmentsUpTo(seq);
  }

  private deliver(entries: readonly LogEntry[]): void {
    for (const listener of this.listeners) {
      try {
        listener(entries);
      } catch (error) {
        // The entries are durable whatever a listener does; its bug must not block the log.
        this.logger.warn(`an onEntries listener threw: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
  }

  private async shutdown(): Promise<void> {
    await this.opening?.catch(noop);
    if (this.phase !== 'open') {
      this.phase = 'closed';
      return;
    }
    this.phase = 'closing';
    try {
      await this.snapshots;
      await this.writer?.close();
    } finally {
      this.phase = 'closed';
      await this.lock?.release();
    }
  }
}

/** mkdir -p, then fsync each new directory's parent so the directory itself survives a crash. */
async function makeDirDurably(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  const top = resolve(created);
  for (let current = resolve(dir); ; current = dirname(current)) {
    await fsyncDir(dirname(current));
    if (current === top || dirname(current) === current) return;
  }
}

function noop(): void {}
