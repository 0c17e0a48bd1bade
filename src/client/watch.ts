import { abortedError, anySignal, sleep } from './abort.js';
import type { HttpTransport } from './http.js';
import type { CallOptions } from './kv.js';
import { type BackoffOptions, backoffDelay } from './retry-policy.js';
import { WatchCursor, type WatchBatch } from './watch-cursor.js';
import { followByLongPoll, type LongPollContext } from './watch-long-poll.js';
import type { WatchBufferLimits } from './watch-socket.js';
import type { ChangeEvent } from './wire.js';

export type { WatchBatch } from './watch-cursor.js';

/**
 * - `websocket`: socket.io over WebSocket only, reconnecting forever.
 * - `long-poll`: blocking `/v1/history` reads only.
 * - `auto`: socket.io, falling back to long-polls for the rest of the watch once
 *   `fallbackAfter` connects in a row failed while the HTTP API answered (a proxy that refuses
 *   the upgrade, a blocked path). A server that is down altogether is retried, not fallen back from.
 */
export type WatchTransport = 'auto' | 'websocket' | 'long-poll';

export interface WatchOptions extends CallOptions {
  /** Watch every key under `key` (a plain string prefix). */
  readonly recurse?: boolean;
  /**
   * First index to deliver (inclusive), e.g. a listing's index + 1. Without it the watch
   * follows changes made after it has subscribed.
   */
  readonly fromIndex?: number;
}

export interface WatchContext extends LongPollContext {
  readonly http: HttpTransport;
  readonly token: string | undefined;
  readonly closed: AbortSignal;
  readonly transport: WatchTransport;
  readonly fallbackAfter: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** What a socket watch holds for a consumer that has not taken it (see followOnSocket). */
  readonly buffer: WatchBufferLimits;
  readonly warn: (message: string) => void;
}

/** Follows a key or prefix one write at a time (see Switchboard.watch for the guarantees). */
export async function* watchBatches(context: WatchContext, key: string, options: WatchOptions = {}): AsyncGenerator<WatchBatch, void, undefined> {
  const signal = anySignal(options.signal, context.closed);
  const target = { key, recurse: options.recurse === true };
  const cursor = new WatchCursor(options.fromIndex);
  if (context.transport === 'long-poll') return yield* followByLongPoll(context, target, cursor, signal);
  // Loaded on first use: socket.io-client is most of the SDK's load time, and a client that
  // never watches (a CLI command, a service that only reads) should not pay for it.
  const { connectWatchSocket, followOnSocket } = await import('./watch-socket.js');
  let failures = 0;
  let refusedWhileHttpAnswers = 0;
  for (;;) {
    let socket;
    try {
      socket = await connectWatchSocket(context.http.address, context.token, context.connectTimeoutMs, signal);
    } catch (error) {
      if (signal.aborted) throw abortedError(signal);
      refusedWhileHttpAnswers = (await httpAnswers(context.http, signal)) ? refusedWhileHttpAnswers + 1 : 0;
      if (context.transport === 'auto' && refusedWhileHttpAnswers >= context.fallbackAfter) {
        context.warn(`watch of ${JSON.stringify(key)}: socket.io unreachable (${String(error)}); following it with /v1/history long-polls`);
        return yield* followByLongPoll(context, target, cursor, signal);
      }
      await sleep(backoffDelay(failures++, context.backoff), signal);
      continue;
    }
    refusedWhileHttpAnswers = 0;
    if (yield* followOnSocket(socket, target, cursor, context, signal)) failures = 0;
    if (signal.aborted) throw abortedError(signal);
    // Disconnected: wait a jittered moment, so clients that lost the same server do not all
    // return at once, and longer each time a connection ends before it could subscribe.
    await sleep(backoffDelay(failures++, context.backoff), signal);
  }
}

/** The same stream, one event at a time; events of one write are adjacent and share `index`. */
export async function* watchEvents(context: WatchContext, key: string, options: WatchOptions = {}): AsyncGenerator<ChangeEvent, void, undefined> {
  for await (const batch of watchBatches(context, key, options)) yield* batch.events;
}

async function httpAnswers(http: HttpTransport, signal: AbortSignal): Promise<boolean> {
  try {
    await http.request('GET', '/v1/status/leader', { signal, timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  }
}
