import { abortedError, sleep } from './abort.js';
import { isTransient } from './errors.js';
import type { HistoryApi } from './history.js';
import type { KvApi } from './kv.js';
import { type BackoffOptions, backoffDelay, nextWaitIndex, RateLimiter } from './retry-policy.js';
import type { WatchBatch, WatchCursor, WatchTarget } from './watch-cursor.js';
import type { ChangeEvent } from './wire.js';

export interface LongPollContext {
  readonly kv: KvApi;
  readonly history: HistoryApi;
  readonly backoff: BackoffOptions;
  /** How long one `/v1/history` request may block. */
  readonly waitMs: number;
  /** Minimum spacing of requests once the burst of two is spent. */
  readonly intervalMs: number;
}

/**
 * Follows a key or prefix with blocking `/v1/history` reads when socket.io is out of reach,
 * obeying Consul's client rules (API.md §3.3): the index goes back to the start when the server's
 * goes backwards and is never sent below 1, requests go through a token bucket rather than a hot
 * loop, and a failed request is retried with capped exponential backoff. Runs until aborted or
 * until the history is compacted past the cursor (CompactedError).
 */
export async function* followByLongPoll(
  context: LongPollContext,
  target: WatchTarget,
  cursor: WatchCursor,
  signal: AbortSignal,
): AsyncGenerator<WatchBatch, void, undefined> {
  const limiter = new RateLimiter(2, context.intervalMs, Date.now());
  let failures = 0;
  let after: number | undefined = cursor.next === undefined ? undefined : cursor.next - 1;
  for (;;) {
    try {
      await sleep(limiter.take(Date.now()), signal);
      if (after === undefined) {
        // No start position: follow changes after the key's current index.
        after = await currentIndex(context.kv, target, signal);
        cursor.started(after);
        continue;
      }
      const page = await context.history.history(target.key, { recurse: target.recurse, index: Math.max(1, after), waitMs: context.waitMs, signal });
      failures = 0;
      if (page.index < after) {
        cursor.reset();
      } else {
        for (const batch of batchesOf(page.events)) {
          if (!cursor.accepts(batch.index)) continue;
          cursor.delivered(batch.index);
          yield batch;
        }
        cursor.progress(page.index);
      }
      after = nextWaitIndex(after, page.index);
    } catch (error) {
      if (signal.aborted) throw abortedError(signal);
      if (!isTransient(error)) throw error;
      await sleep(backoffDelay(failures++, context.backoff), signal);
    }
  }
}

async function currentIndex(kv: KvApi, target: WatchTarget, signal: AbortSignal): Promise<number> {
  return target.recurse ? (await kv.listWithIndex(target.key, { signal })).index : (await kv.getWithIndex(target.key, { signal })).index;
}

/** Events of one write share their index and are adjacent in a history page. */
export function batchesOf(events: readonly ChangeEvent[]): WatchBatch[] {
  const batches: { index: number; events: ChangeEvent[] }[] = [];
  for (const event of events) {
    const last = batches.at(-1);
    if (last?.index === event.index) last.events.push(event);
    else batches.push({ index: event.index, events: [event] });
  }
  return batches;
}
