import type { LogEntry } from '../core/commands.js';
import { ConnectionLostError, DeadlineError, type RedisConnection, type RedisLogLogger } from './redis-connection.js';
import { type RedisKeys, seqOfStreamId, streamId } from './redis-keys.js';
import { parseStreamEntry, type RawStreamEntry, readLog, readToEnd, type StreamEntry } from './redis-stream.js';
import type { Proposal } from './replicated-log.js';

/**
 * Follows the log on its own connection (XREAD BLOCK would stall anything sharing it) and hands
 * entries over exactly once, in seq order, with no gaps:
 * - it reads from the last delivered id, so after a reconnect it resumes where it stopped;
 * - it reads with the bounded read script while behind and with XREAD BLOCK at the end of the
 *   log, so no reply is much larger than 16 MB however large the values (see readOnce);
 * - each read comes with the epoch and seq counter as they were *after* it: if the epoch
 *   then is still ours, no flush can have happened before the entries were read, so they belong
 *   to our history; a changed epoch, a seq counter below what was delivered, or a next entry
 *   that is not `delivered + 1` (trimmed away while we lagged) asks the host to reset;
 * - after every reconnect, before reading on, it checks that the entry it delivered last is
 *   still there (same writer token, which names one append call): a Redis restarted from an older file, or a failover to a lagging
 *   replica, may have lost it and since grown past it again with different entries;
 * - XREAD blocks at most blockMs, so an idle node still hears from Redis (health), and every
 *   call has a deadline: a Redis that stops answering gets its socket dropped and reconnected;
 * - while this node's own append replies bring it the log (each carries the entries since the
 *   node's position, then the batch), it does not read at all: a node that keeps writing pays
 *   one round trip per batch instead of two, and never reads back the bytes it just sent.
 *   Entries come through `offer` then; both ways deliver each seq once, whichever comes first.
 */
export interface TailPosition {
  readonly seq: number;
  /** The writer token of the entry at seq, when known (not after restoring a bare snapshot). */
  readonly lastWriter?: string;
}

export interface TailerHost {
  epoch(): string;
  deliver(entries: readonly LogEntry[]): void;
  /** The proposal this node appended under `writer`, if it is still waiting to be read back. */
  ownProposal(writer: string): Proposal | undefined;
  /** Resolves once this node's append replies stop bringing the log; undefined if they do not now. */
  whileAppendsCarryTheLog(): Promise<void> | undefined;
  /** Reloads the log after its history changed and returns where to continue from. */
  reset(reason: string): Promise<TailPosition>;
}

export interface TailerOptions {
  readonly blockMs: number;
  readonly timeoutMs: number;
  /** The most entries one XREAD BLOCK asks for: it has no byte bound, so this is what bounds its reply. */
  readonly followCount: number;
}

/** One read: the epoch and seq counter as they were after it, its entries, and whether they reached the end of the log. */
interface TailRead {
  readonly state: (string | null)[];
  readonly read: RawStreamEntry[];
  readonly atEnd: boolean;
}

const ERROR_BACKOFF_MS = 1000;

export class RedisTailer {
  private position: TailPosition = { seq: 0 };
  private checkedGeneration = -1;
  /** A reset is asked for or running: the position is about to be replaced, so nothing is delivered. */
  private pendingReset?: string;
  /** The last read found the end of the log: the next one blocks until there is more. */
  private following = false;
  private readonly abort = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly options: TailerOptions,
    private readonly host: TailerHost,
    private readonly logger: RedisLogLogger,
  ) {}

  /** Where delivery stands: the last seq handed over and its writer token. */
  get applied(): TailPosition {
    return this.position;
  }

  /**
   * Entries read another way (an append's reply), in seq order, starting at or below the next
   * seq to deliver. Delivers those not yet delivered; false when they cannot follow on from the
   * position (a gap, a different entry at the position, or a reset under way).
   */
  offer(entries: readonly StreamEntry[]): boolean {
    if (this.pendingReset !== undefined) return false;
    const { seq, lastWriter } = this.position;
    const start = seq + 1 - (entries[0]?.entry.seq ?? seq + 1);
    if (start < 0) return false;
    const atPosition = entries[start - 1];
    if (atPosition !== undefined && lastWriter !== undefined && atPosition.writer !== lastWriter) return false;
    this.deliver(start === 0 ? entries : entries.slice(start));
    return true;
  }

  start(from: TailPosition): void {
    this.position = from;
    // The generation open() read on is already verified by the load itself.
    this.checkedGeneration = this.conn.generation;
    this.running = this.run();
  }

  /** Ends the loop; it finishes once its current call returns or its connection closes. */
  stop(): Promise<void> {
    this.abort.abort();
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      // Without a deadline this is false only once stopped or closed.
      if (!(await this.conn.whenReady(Number.POSITIVE_INFINITY, signal))) return;
      try {
        if (this.pendingReset !== undefined) {
          this.position = await this.host.reset(this.pendingReset);
          this.following = false;
          this.pendingReset = undefined;
          this.checkedGeneration = this.conn.generation;
        } else if (this.checkedGeneration !== this.conn.generation) {
          const generation = this.conn.generation;
          await this.checkContinuity();
          this.checkedGeneration = generation;
        } else {
          const carried = this.host.whileAppendsCarryTheLog();
          if (carried === undefined) await this.readOnce();
          else await untilAborted(carried, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        await this.recover(error);
      }
    }
  }

  /**
   * Reads what follows the position: behind, with the bounded read script (up to READ_BYTES of
   * values, without blocking); at the end of the log, with XREAD BLOCK, which has no byte bound,
   * so it asks for only `followCount` entries. Caught up once a bounded read reaches the end of
   * the log; behind again when a blocking read comes back full.
   */
  private async readOnce(): Promise<void> {
    // Entries may also arrive through offer() while this read is out; the log held at least
    // what was delivered when it was sent.
    const sentAt = this.position.seq;
    const { state, read, atEnd } = this.following ? await this.awaitEntries() : await this.readBehind();
    this.following = atEnd;
    if (this.historyChanged(state, sentAt)) return;
    // An append's reply may have delivered some of them since the read was sent.
    const unseen = read.filter(([id]) => seqOfStreamId(id.toString('latin1')) > this.position.seq);
    const entries = unseen.map((raw) => parseStreamEntry(raw, (writer) => this.host.ownProposal(writer)));
    const first = entries[0];
    if (first === undefined) return;
    if (first.entry.seq !== this.position.seq + 1) {
      this.requestReset(
        `entries ${this.position.seq + 1}..${first.entry.seq - 1} were trimmed from the log before this node read them (it fell behind the retained tail)`,
      );
      return;
    }
    this.deliver(entries);
  }

  private async readBehind(): Promise<TailRead> {
    const { conn, keys, options } = this;
    const [epoch, seq, read] = await conn.within(readLog(conn, keys, this.position.seq + 1), Date.now() + options.timeoutMs);
    const last = read.at(-1);
    return {
      state: [epoch?.toString('latin1') ?? null, seq?.toString('latin1') ?? null],
      read,
      atEnd: last === undefined || readToEnd(seqOfStreamId(last[0].toString('latin1')), seq),
    };
  }

  /** XREAD BLOCK from the position, with the epoch and seq counter as read after it. */
  private async awaitEntries(): Promise<TailRead> {
    const { conn, keys, options } = this;
    const results = await conn.within(
      conn.corked(() =>
        conn.client
          .pipeline()
          .xreadBuffer('COUNT', options.followCount, 'BLOCK', options.blockMs, 'STREAMS', keys.log, streamId(this.position.seq))
          .mget(keys.epoch, keys.seq)
          .exec(),
      ),
      Date.now() + options.blockMs + options.timeoutMs,
    );
    const [[readError, read] = [], [stateError, state] = []] = results ?? [];
    if (readError || stateError) throw (readError ?? stateError) as Error;
    const entries = (read as [key: Buffer, entries: RawStreamEntry[]][] | null)?.[0]?.[1] ?? [];
    return { state: state as (string | null)[], read: entries, atEnd: entries.length < options.followCount };
  }

  /** After a reconnect: is the entry we delivered last still the one in the log? */
  private async checkContinuity(): Promise<void> {
    const { conn, keys } = this;
    const { seq, lastWriter } = this.position;
    const results = await conn.within(
      conn.client.pipeline().xrangeBuffer(keys.log, streamId(seq), streamId(seq)).mget(keys.epoch, keys.seq).exec(),
      Date.now() + this.options.timeoutMs,
    );
    const [[rangeError, range] = [], [stateError, state] = []] = results ?? [];
    if (rangeError || stateError) throw (rangeError ?? stateError) as Error;
    if (this.historyChanged(state as (string | null)[], seq)) return;
    const stored = (range as RawStreamEntry[])[0];
    if (stored === undefined || lastWriter === undefined) return; // trimmed, or nothing to compare
    if (parseStreamEntry(stored).writer !== lastWriter) {
      this.requestReset(`the entry at seq ${seq} is not the one this node applied: the log's history was replaced`);
    }
  }

  /**
   * Epoch and seq counter as read after the stream, by a request sent when `deliveredSeq` was
   * delivered: has the history under us changed?
   */
  private historyChanged([epoch, seqText]: (string | null)[], deliveredSeq: number): boolean {
    const ours = this.host.epoch();
    if (epoch !== ours) {
      this.requestReset(
        epoch === null || epoch === undefined
          ? `the epoch key is gone (the Redis data was flushed or replaced; this node had epoch ${ours})`
          : `the epoch changed from ${ours} to ${epoch} (the Redis dataset was replaced)`,
      );
      return true;
    }
    const seq = Number(seqText ?? 0);
    if (seq < deliveredSeq) {
      this.requestReset(`the log's seq went backwards from ${deliveredSeq} to ${seq} (Redis lost acknowledged entries)`);
      return true;
    }
    return false;
  }

  private deliver(entries: readonly StreamEntry[]): void {
    const last = entries.at(-1);
    if (last === undefined) return;
    for (const [i, { entry }] of entries.entries()) {
      if (entry.seq !== this.position.seq + 1 + i) throw new Error(`the log has a gap: seq ${entry.seq} after ${this.position.seq + i}`);
    }
    this.position = { seq: last.entry.seq, lastWriter: last.writer };
    this.host.deliver(entries.map((e) => e.entry));
  }

  private requestReset(reason: string): void {
    this.logger.error(`the log's history was replaced under this node: ${reason}; dropping state and restoring from Redis`);
    this.pendingReset = reason;
  }

  private async recover(error: unknown): Promise<void> {
    if (error instanceof ConnectionLostError) return; // whenReady() waits for the reconnect
    if (error instanceof DeadlineError) {
      this.logger.warn(`Redis did not answer the tailer within ${this.options.blockMs + this.options.timeoutMs} ms; reconnecting`);
      this.conn.client.disconnect(true);
      return;
    }
    this.logger.error(`tailing the log failed: ${(error as Error)?.stack ?? String(error)}; retrying in ${ERROR_BACKOFF_MS} ms`);
    // A back-off, not a synchronisation: a persistent fault must not spin the loop.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ERROR_BACKOFF_MS);
      this.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/** Waits for `promise`, or less if the signal aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = (): void => resolve();
    signal.addEventListener('abort', stop, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    });
  });
}
