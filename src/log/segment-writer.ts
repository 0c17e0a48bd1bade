import { rm } from 'node:fs/promises';
import type { LogEntry } from '../core/commands.js';
import type { SegmentRef } from './log-recovery.js';
import { createSegmentFile, type OpenSegmentFile, type SegmentFile } from './segment-file.js';

/**
 * Group commit onto the active segment. Invariants:
 * - one I/O step at a time (`io` chain): a batch's durable write, or a segment roll; never both;
 * - a batch is whatever was submitted while the previous step ran: ONE durable write;
 * - `onDurable` sees a batch once it is durable and before any of its promises resolve;
 * - after any write or roll error the writer is failed for good and rejects everything
 *   with that error: nothing not known to be on disk is ever acknowledged, and no later record
 *   can land after a hole.
 */
interface Submitted {
  readonly entry: LogEntry;
  readonly record: Buffer;
  resolve(entry: LogEntry): void;
  reject(error: Error): void;
}

export interface SegmentWriterOptions {
  readonly dir: string;
  /** Retained segments, oldest first; the last is the one `active` appends to. */
  readonly segments: SegmentRef[];
  readonly active: SegmentFile;
  readonly durableSeq: number;
  readonly openSegment: OpenSegmentFile;
  readonly onDurable: (entries: readonly LogEntry[]) => void;
}

export class SegmentWriter {
  private readonly segments: SegmentRef[];
  private active: SegmentFile;
  private durable: number;
  private pending: Submitted[] = [];
  private flushQueued = false;
  private io: Promise<void> = Promise.resolve();
  private error?: Error;

  constructor(private readonly options: SegmentWriterOptions) {
    this.segments = options.segments;
    this.active = options.active;
    this.durable = options.durableSeq;
  }

  /** Highest seq durably written. */
  get durableSeq(): number {
    return this.durable;
  }

  /** Set by the first write or roll error; final. */
  get failure(): Error | undefined {
    return this.error;
  }

  submit(entry: LogEntry, record: Buffer): Promise<LogEntry> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, record, resolve, reject });
      if (this.flushQueued) return;
      this.flushQueued = true;
      // Queued, not run now: everything submitted in this tick (and while a step is in
      // flight) joins the same batch.
      this.io = this.io.then(() => this.flush()).then(noop, noop);
    });
  }

  /** Starts a new segment at durableSeq + 1 so older ones can be deleted whole. */
  roll(): Promise<void> {
    const step = this.io.then(() => this.rollNow());
    this.io = step.then(noop, noop);
    return step;
  }

  /** Deletes closed segments whose every entry is <= seq, oldest first. */
  async dropSegmentsUpTo(seq: number): Promise<void> {
    const doomed: SegmentRef[] = [];
    for (let next = this.segments[1]; next !== undefined && next.firstSeq - 1 <= seq; next = this.segments[1]) {
      doomed.push(this.segments.shift() as SegmentRef);
    }
    for (const segment of doomed) await rm(segment.path, { force: true });
  }

  /** Waits for every submitted append and roll, then closes the active segment. */
  async close(): Promise<void> {
    await this.io;
    await this.active.close();
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    if (this.error !== undefined) return rejectAll(batch, this.error);
    try {
      await this.active.appendDurable(batch.length === 1 ? (batch[0] as Submitted).record : joinRecords(batch));
    } catch (cause) {
      this.error = asError(cause);
      return rejectAll(batch, this.error);
    }
    const entries = batch.map((submitted) => submitted.entry);
    this.durable = (entries[entries.length - 1] as LogEntry).seq;
    try {
      this.options.onDurable(entries);
    } finally {
      for (const submitted of batch) submitted.resolve(submitted.entry);
    }
  }

  private async rollNow(): Promise<void> {
    if (this.error !== undefined) throw this.error;
    const firstSeq = this.durable + 1;
    if (this.segments[this.segments.length - 1]?.firstSeq === firstSeq) return; // still empty
    let next: SegmentFile;
    let path: string;
    try {
      path = await createSegmentFile(this.options.dir, firstSeq);
      next = await this.options.openSegment(path);
    } catch (cause) {
      // The new name may be on disk. Recovery reads a closed segment's range off the next
      // name, so the old segment must not grow past it: stop writing altogether.
      this.error = asError(cause);
      throw this.error;
    }
    const previous = this.active;
    this.active = next;
    this.segments.push({ firstSeq, path });
    await previous.close().catch(noop); // fully fsynced already; a close error loses nothing
  }
}

function joinRecords(batch: readonly Submitted[]): Buffer {
  return Buffer.concat(batch.map((submitted) => submitted.record));
}

function rejectAll(batch: readonly Submitted[], error: Error): void {
  for (const submitted of batch) submitted.reject(error);
}

function asError(cause: unknown): Error {
  return cause instanceof Error ? cause : new Error(String(cause));
}

function noop(): void {}
