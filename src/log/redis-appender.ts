import { encodeJson } from '../core/codec.js';
import type { LogEntry } from '../core/commands.js';
import { LogUnavailableError } from './log-unavailable-error.js';
import { MAX_PAYLOAD_BYTES } from './record-format.js';
import { ConnectionLostError, DeadlineError, type RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { type AppendBatchReply, packAppendBatch, scriptedPipeline, scriptErrorCode } from './redis-scripts.js';
import { parseStreamEntry, type RawStreamEntry, READ_BYTES, READ_ENTRIES, scanStream, type StreamEntry } from './redis-stream.js';
import type { TailPosition } from './redis-tailer.js';
import type { Proposal } from './replicated-log.js';

/**
 * Appends through the batch append script, with these guarantees:
 * - appends made while the previous batch awaits its reply go out together as one script call
 *   (plus one WAIT covering all of them when replicas are required), in one socket write: one
 *   round trip per batch;
 * - every append settles within writeTimeoutMs: resolved with its entry, or rejected with a
 *   LogUnavailableError whose `outcome` says whether the entry can still appear;
 * - nothing is ever resent blindly. When the socket drops after a batch was sent, each of its
 *   appends is settled by reading the log: first the fence is raised to the new connection's
 *   generation (so a request still travelling on the dead socket is refused if it arrives),
 *   then the stream is scanned, from the highest seq known when it was sent, for the entry
 *   carrying its writer token. Found: resolved; not found: definitely not appended.
 */
export interface AppenderOptions {
  readonly incarnation: string;
  readonly writeTimeoutMs: number;
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

export interface AppenderContext {
  epoch(): string;
  /** The highest seq this node knows to exist: a new entry can only get a higher one. */
  knownSeq(): number;
  noteSeq(seq: number): void;
  /** How far this node has applied the log: a batch's reply brings the entries after it. */
  applied(): TailPosition;
  /**
   * Hands over entries read from a batch's reply (in seq order, from some seq at or below the
   * next one to apply); false when they do not follow on from what was applied (a reply that
   * crossed a reset, or the log is being reloaded): the tailer then reads them instead.
   */
  offer(entries: readonly StreamEntry[]): boolean;
}

interface Queued {
  readonly proposal: Proposal;
  readonly payload: Buffer;
  readonly writer: string;
  readonly deadline: number;
  sent(outcome: Promise<Sent>, batch: Batch): void;
}

interface Sent {
  readonly seq: number;
  readonly time: number;
  /** Replicas that acknowledged the batch, when replicas are required. */
  readonly replicas?: number;
}

interface Batch {
  readonly generation: number;
  readonly knownSeq: number;
}

const FENCE_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_BATCH = 1000;
/** Far below Redis's 512 MB bulk-string limit, which one packed batch of large values could pass. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Batches sent and not yet answered before the next waits for one to settle. Group commit, as
 * on the file log: what arrives during a round trip goes out together after it, so a busy node
 * makes few, large script calls (each is a loopback write whose cost the node pays in full).
 */
const MAX_IN_FLIGHT = 1;
/** An append is sent only with at least this share of its write timeout left to get a reply. */
const MIN_SEND_WINDOW = 0.1;

export class RedisAppender {
  private queue: Queued[] = [];
  private flushQueued = false;
  private inFlight = 0;
  private calls = 0;
  /** Proposals appended but not yet read back by this node's tailer, by writer token. */
  private readonly unread = new Map<string, Proposal>();
  /** Whether the last batch's reply brought the log up to its own entries. */
  private repliesCaughtUp = true;
  private readonly quietWaiters: (() => void)[] = [];

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly options: AppenderOptions,
    private readonly context: AppenderContext,
  ) {}

  async append(proposal: Proposal): Promise<LogEntry> {
    const { writeTimeoutMs } = this.options;
    const deadline = Date.now() + writeTimeoutMs;
    const { node, proposal: id, command } = proposal;
    const payload = encodeJson({ node, proposal: id, command }, false);
    if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`entry of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
    if (!this.conn.ready && !(await this.conn.whenReady(deadline))) {
      throw new LogUnavailableError(`Redis is unreachable: no connection within ${writeTimeoutMs} ms; the write was not applied`, 'not-appended');
    }
    const writer = `${this.options.incarnation}.${++this.calls}`;
    this.unread.set(writer, proposal);
    const { outcome, batch } = await this.enqueue(proposal, payload, writer, deadline);
    let sent: Sent;
    try {
      sent = await outcome;
    } catch (error) {
      if (!(error instanceof ConnectionLostError)) {
        this.unread.delete(writer);
        throw this.explain(error);
      }
      return this.settle(proposal, writer, batch, deadline).catch((failure: unknown) => {
        if (failure instanceof LogUnavailableError && failure.outcome === 'not-appended') this.unread.delete(writer);
        throw failure;
      });
    }
    this.context.noteSeq(sent.seq);
    const entry: LogEntry = { seq: sent.seq, time: sent.time, node, proposal: id, command };
    if (sent.replicas !== undefined && sent.replicas < this.options.waitReplicas) throw this.unreplicated(sent.seq, sent.replicas);
    return entry;
  }

  /** Hands the tailer a proposal of ours it reads back (once), so it need not decode it. */
  takeUnread(writer: string): Proposal | undefined {
    const proposal = this.unread.get(writer);
    if (proposal !== undefined) this.unread.delete(writer);
    return proposal;
  }

  /** The log's history was replaced: entries not read back by now never will be. */
  forgetUnread(): void {
    this.unread.clear();
  }

  /**
   * While batches are queued or in flight and their replies keep bringing the log up to date,
   * a promise that resolves once that stops (the appends went quiet, or a reply fell short):
   * until then the tailer need not read the stream. Otherwise undefined.
   */
  whileRepliesCarryTheLog(): Promise<void> | undefined {
    if (!this.repliesCarryTheLog()) return undefined;
    return new Promise((resolve) => this.quietWaiters.push(resolve));
  }

  private repliesCarryTheLog(): boolean {
    const idle = this.queue.length === 0 && this.inFlight === 0 && !this.flushQueued;
    return this.repliesCaughtUp && !idle;
  }

  /** Called wherever appends may have gone quiet or a reply fell short. */
  private wakeTailerIfNeeded(): void {
    if (!this.repliesCarryTheLog()) for (const wake of this.quietWaiters.splice(0)) wake();
  }

  private enqueue(proposal: Proposal, payload: Buffer, writer: string, deadline: number): Promise<{ outcome: Promise<Sent>; batch: Batch }> {
    return new Promise((resolve) => {
      this.queue.push({ proposal, payload, writer, deadline, sent: (outcome, batch) => resolve({ outcome, batch }) });
      this.scheduleFlush();
    });
  }

  /** Flushes after this turn of the event loop, unless MAX_IN_FLIGHT batches await replies. */
  private scheduleFlush(): void {
    if (this.flushQueued || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  /** Sends everything queued, in script calls of at most MAX_BATCH appends and about MAX_BATCH_BYTES. */
  private flush(): void {
    this.flushQueued = false;
    // An append that waited out (nearly) its whole deadline behind a batch Redis did not answer is
    // refused unsent: sent now, it would time out at once with an unknown outcome, yet land later.
    const sendableUntil = Date.now() + this.options.writeTimeoutMs * MIN_SEND_WINDOW;
    const batch: Batch = { generation: this.conn.generation, knownSeq: this.context.knownSeq() };
    const queued: Queued[] = [];
    for (const item of this.queue) {
      if (item.deadline > sendableUntil) queued.push(item);
      else item.sent(Promise.reject(this.expired()), batch);
    }
    this.queue = [];
    for (const items of batches(queued)) {
      const settled = this.send(items);
      if (settled === undefined) continue;
      this.inFlight++;
      const done = (): void => {
        this.inFlight--;
        this.scheduleFlush();
        this.wakeTailerIfNeeded();
      };
      settled.then(done, () => {
        this.repliesCaughtUp = false;
        done();
      });
    }
    this.wakeTailerIfNeeded();
  }

  /** Sends one batch; returns its settlement, or undefined when it could not be sent at all. */
  private send(items: readonly Queued[]): Promise<unknown> | undefined {
    const { keys, conn } = this;
    const batch: Batch = { generation: conn.generation, knownSeq: this.context.knownSeq() };
    if (!conn.ready) {
      for (const item of items) item.sent(Promise.reject(notSent()), batch);
      return undefined;
    }
    const pipeline = scriptedPipeline(conn.client);
    const applied = this.context.applied();
    pipeline.sbAppendBatchBuffer(
      keys.epoch,
      keys.seq,
      keys.time,
      keys.log,
      keys.fence(this.options.incarnation),
      this.context.epoch(),
      conn.generation,
      packAppendBatch(items),
      applied.seq,
      applied.lastWriter ?? '',
      // The most of other nodes' entries a reply brings back, as one read of the log: a node further behind reads the stream.
      READ_ENTRIES,
      READ_BYTES,
    );
    const { waitReplicas, waitTimeoutMs } = this.options;
    if (waitReplicas > 0) pipeline.wait(waitReplicas, waitTimeoutMs);
    // Sent on a ready socket, so any failure that is not Redis's own reply (an abort or a close
    // with the batch in flight) leaves the outcome open: settle it by reading the log.
    const replies = conn.corked(() => pipeline.exec()).catch((error: unknown) => {
      throw asLost(error);
    });
    const appended = replies.then((results) => {
      const [error, value] = results?.[0] ?? [new ConnectionLostError('no reply for the append batch')];
      if (error) throw asLost(error);
      const [firstSeq, time, caughtUp, before] = value as AppendBatchReply;
      this.applyFromReply(items, firstSeq, time, caughtUp === 1 ? before : undefined);
      if (waitReplicas === 0) return { firstSeq, time };
      const [waitError, replicas] = results?.[1] ?? [new Error('no reply to WAIT')];
      return { firstSeq, time, replicas: waitError ? 0 : (replicas as number) };
    });
    // The first item's deadline is the batch's earliest: one timer settles them all in time.
    const settled = conn.within(appended, (items[0] as Queued).deadline);
    for (const [i, item] of items.entries()) {
      item.sent(
        settled.then(({ firstSeq, time, replicas }): Sent => (replicas === undefined ? { seq: firstSeq + i, time } : { seq: firstSeq + i, time, replicas })),
        batch,
      );
    }
    return settled;
  }

  /**
   * Applies the entries before the batch and the batch itself from the reply, when it brought
   * the log up to the batch: the node then learns its own entries without reading them back.
   * Otherwise the tailer reads them, and does so until a reply catches up again.
   */
  private applyFromReply(items: readonly Queued[], firstSeq: number, time: number, before: RawStreamEntry[] | undefined): void {
    try {
      this.repliesCaughtUp = before !== undefined && this.context.offer(entriesOfReply(items, firstSeq, time, before, (writer) => this.takeUnread(writer)));
    } catch {
      // The batch is in the log whatever its reply held: the tailer reads it, and reports what is wrong with it.
      this.repliesCaughtUp = false;
    }
    if (this.repliesCaughtUp) for (const { writer } of items) this.unread.delete(writer);
    else this.wakeTailerIfNeeded();
  }

  private async settle(proposal: Proposal, writer: string, batch: Batch, deadline: number): Promise<LogEntry> {
    const { conn, keys } = this;
    const unknown = (why: string): LogUnavailableError =>
      new LogUnavailableError(`lost the connection to Redis during the write and ${why}; it may or may not have been applied`, 'unknown');
    if (conn.ready && conn.generation === batch.generation) {
      // The batch failed without the socket closing: make it close, so that the fence below
      // can shut out everything sent on it without shutting out the next connection.
      conn.client.disconnect(true);
    }
    if (!(await conn.whenReady(deadline, undefined, batch.generation))) {
      throw unknown(`could not reconnect within ${this.options.writeTimeoutMs} ms to check`);
    }
    let found: LogEntry | undefined;
    let firstSeen: number | undefined;
    try {
      await conn.within(conn.client.sbFence(keys.fence(this.options.incarnation), conn.generation, FENCE_TTL_MS), deadline);
      await scanStream(conn, keys, batch.knownSeq + 1, () => deadline, (page) => {
        firstSeen ??= page[0]?.entry.seq;
        found = page.find((e) => e.writer === writer)?.entry;
        return found !== undefined;
      });
    } catch (error) {
      throw unknown(`checking the log failed (${(error as Error).message})`);
    }
    if (found !== undefined) {
      this.context.noteSeq(found.seq);
      await this.awaitReplicasAfterSettling(found.seq, deadline);
      return { ...found, node: proposal.node, proposal: proposal.proposal, command: proposal.command };
    }
    if (firstSeen !== undefined && firstSeen > batch.knownSeq + 1) {
      throw unknown('the part of the log that could hold it was trimmed before it could be checked');
    }
    throw new LogUnavailableError('lost the connection to Redis during the write; the log shows it was not applied', 'not-appended');
  }

  /**
   * The batch's own WAIT was lost with its connection. Replication is in order, so replicas that
   * acknowledge this connection's fence write (made before the scan) also hold the entry found.
   */
  private async awaitReplicasAfterSettling(seq: number, deadline: number): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.options;
    if (waitReplicas === 0) return;
    const replicas = await this.conn.within(this.conn.client.wait(waitReplicas, waitTimeoutMs), deadline).catch(() => 0);
    if (replicas < waitReplicas) throw this.unreplicated(seq, replicas);
  }

  private unreplicated(seq: number, replicas: number): LogUnavailableError {
    return new LogUnavailableError(
      `seq ${seq} is in the log but only ${replicas} of ${this.options.waitReplicas} required Redis replicas acknowledged it within ${this.options.waitTimeoutMs} ms; a failover may lose it`,
      'unreplicated',
    );
  }

  private expired(): LogUnavailableError {
    return new LogUnavailableError(
      `Redis did not answer the previous writes within ${this.options.writeTimeoutMs} ms, so this one was never sent; it was not applied`,
      'not-appended',
    );
  }

  /** Maps a definite failure (refused, never sent, timed out) to the error the caller sees. */
  private explain(error: unknown): Error {
    if (error instanceof LogUnavailableError) return error;
    if (error instanceof DeadlineError) {
      return new LogUnavailableError(`no reply from Redis within ${this.options.writeTimeoutMs} ms; the write may or may not have been applied`, 'unknown');
    }
    switch (scriptErrorCode(error)) {
      case 'SBEPOCH':
        return new LogUnavailableError('the log was reset (its epoch changed) and this node is resyncing; the write was not applied', 'not-appended');
      case 'SBFENCED':
        return new LogUnavailableError('the write was sent on a Redis connection that has since been replaced; it was not applied', 'not-appended');
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === 'ReplyError') {
      return new LogUnavailableError(`Redis refused the write (${message}); it was not applied`, 'not-appended', { cause: error });
    }
    return new LogUnavailableError(`the write failed (${message})`, 'unknown', { cause: error });
  }
}

/** The entries a caught-up reply covers: those before the batch (as the stream holds them), then the batch's own. */
function entriesOfReply(
  items: readonly Queued[],
  firstSeq: number,
  time: number,
  before: readonly RawStreamEntry[],
  ownProposal: (writer: string) => Proposal | undefined,
): StreamEntry[] {
  const entries = before.map((raw) => parseStreamEntry(raw, ownProposal));
  for (const [i, { proposal, writer }] of items.entries()) {
    const { node, proposal: id, command } = proposal;
    entries.push({ entry: { seq: firstSeq + i, time, node, proposal: id, command }, writer });
  }
  return entries;
}

/** Splits queued appends, in order, into batches within MAX_BATCH entries and MAX_BATCH_BYTES. */
function batches(queued: readonly Queued[]): Queued[][] {
  const all: Queued[][] = [];
  let current: Queued[] = [];
  let bytes = 0;
  for (const item of queued) {
    if (current.length > 0 && (current.length >= MAX_BATCH || bytes + item.payload.length > MAX_BATCH_BYTES)) {
      all.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.payload.length;
  }
  if (current.length > 0) all.push(current);
  return all;
}

function asLost(error: unknown): Error {
  if (error instanceof Error && error.name === 'ReplyError') return error;
  return new ConnectionLostError(error instanceof Error ? error.message : String(error));
}

function notSent(): LogUnavailableError {
  return new LogUnavailableError('the Redis connection dropped before the write was sent; it was not applied', 'not-appended');
}
