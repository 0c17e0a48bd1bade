import { io, type Socket } from 'socket.io-client';
import {
  type CompactedMessage,
  type EventsMessage,
  type OverflowMessage,
  type ProgressMessage,
  type SubscribeAck,
  WATCH_NAMESPACE,
  type WatchClientToServerEvents,
  watchEventBytes,
  type WatchServerToClientEvents,
} from '../protocol/watch-protocol.js';
import { abortedError } from './abort.js';
import { CompactedError, SwitchboardError } from './errors.js';
import { MessageQueue } from './message-queue.js';
import { changeEvent } from './wire.js';
import type { WatchBatch, WatchCursor, WatchTarget } from './watch-cursor.js';

type WatchSocket = Socket<WatchServerToClientEvents, WatchClientToServerEvents>;

type Incoming =
  | { readonly kind: 'events'; readonly message: EventsMessage; readonly bytes: number }
  | { readonly kind: 'progress'; readonly message: ProgressMessage }
  | { readonly kind: 'compacted'; readonly message: CompactedMessage }
  | { readonly kind: 'overflow'; readonly message: OverflowMessage }
  | { readonly kind: 'disconnect'; readonly reason: string }
  /** What arrived after this was dropped: the consumer fell too far behind (see followOnSocket). */
  | { readonly kind: 'dropped' };

/** How much a socket watch holds for a consumer that has not taken it yet. */
export interface WatchBufferLimits {
  readonly events: number;
  /** Estimated as the server estimates its own buffers (watchEventBytes). */
  readonly bytes: number;
}

const ACK_TIMEOUT_MS = 5000;
/** An unsubscribe (a `break`, a drop) waits at most this long for the server's confirmation. */
const UNSUBSCRIBE_TIMEOUT_MS = 1000;

/** Opens a socket.io connection to `/watch` (WebSocket only); rejects when it cannot. */
export function connectWatchSocket(address: string, token: string | undefined, timeoutMs: number, signal: AbortSignal): Promise<WatchSocket> {
  const socket: WatchSocket = io(`${address}${WATCH_NAMESPACE}`, {
    transports: ['websocket'],
    // Reconnecting is the watch loop's job: it needs to resubscribe from its own cursor.
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    auth: token === undefined ? {} : { token },
  });
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('connect_error', settle);
      if (error === undefined) return resolve(socket);
      socket.disconnect();
      reject(error);
    };
    const onConnect = (): void => settle();
    const onAbort = (): void => settle(abortedError(signal));
    socket.once('connect', onConnect);
    socket.once('connect_error', settle);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Follows one subscription on a connected socket, advancing `cursor` with every batch, until
 * the socket disconnects (then it returns whether the server had accepted the subscription, so
 * the caller reconnects and resumes from the cursor). An overflow resubscribes from the cursor on
 * the same socket; a compaction throws. However it ends, the server-side subscription ends with it.
 *
 * socket.io reads whatever the server sends, so the server's backpressure never reaches a
 * consumer that is slower than the writes: what it has not taken is held here, up to `limits`.
 * Past them, what arrives is dropped until the consumer has taken what is held; then the watch
 * ends the subscription and subscribes again from its cursor, as after a server overflow: memory
 * stays bounded and no event is missed, at the cost of a replay (a warning says so).
 */
export async function* followOnSocket(
  socket: WatchSocket,
  target: WatchTarget,
  cursor: WatchCursor,
  { buffer: limits, warn }: { readonly buffer: WatchBufferLimits; readonly warn: (message: string) => void },
  signal: AbortSignal,
): AsyncGenerator<WatchBatch, boolean, undefined> {
  const queue = new MessageQueue<Incoming>();
  const held = { events: 0, bytes: 0 };
  let dropping = false;
  const hold = (incoming: Incoming): void => {
    if (dropping && incoming.kind !== 'disconnect') return;
    if (incoming.kind === 'events') {
      const events = incoming.message.events.length;
      // One message always fits when nothing is held, however large: a write is delivered whole.
      if (held.events > 0 && (held.events + events > limits.events || held.bytes + incoming.bytes > limits.bytes)) {
        dropping = true;
        warn(
          `watch of ${JSON.stringify(target.key)}: the consumer is ${held.events} events behind; ` +
            `dropping what arrives until it catches up, then resubscribing from index ${String(cursor.next)}`,
        );
        return queue.push({ kind: 'dropped' });
      }
      held.events += events;
      held.bytes += incoming.bytes;
    }
    queue.push(incoming);
  };
  socket.on('events', (message) => hold({ kind: 'events', message, bytes: message.events.reduce((sum, event) => sum + watchEventBytes(event), 0) }));
  socket.on('progress', (message) => hold({ kind: 'progress', message }));
  socket.on('compacted', (message) => hold({ kind: 'compacted', message }));
  socket.on('overflow', (message) => hold({ kind: 'overflow', message }));
  socket.on('disconnect', (reason) => hold({ kind: 'disconnect', reason }));
  let id: number | undefined;
  try {
    id = await subscribe(socket, target, cursor);
    if (id === undefined) return false;
    for (;;) {
      const incoming = await queue.take(signal);
      switch (incoming.kind) {
        case 'disconnect':
          return true;
        case 'progress':
          cursor.progress(incoming.message.index);
          break;
        case 'events': {
          const { message } = incoming;
          held.events -= message.events.length;
          held.bytes -= incoming.bytes;
          if (message.id !== id || !cursor.accepts(message.index)) break;
          cursor.delivered(message.index);
          yield { index: message.index, events: message.events.map(changeEvent) };
          break;
        }
        case 'compacted':
          if (incoming.message.id === id) throw new CompactedError(incoming.message.oldestIndex);
          break;
        case 'overflow':
          if (incoming.message.id !== id) break;
          cursor.progress(incoming.message.index);
          id = await subscribe(socket, target, cursor);
          if (id === undefined) return true;
          break;
        case 'dropped':
          if (!socket.connected) return true;
          // Once acknowledged, nothing more names the old subscription: what follows is the new one's.
          await unsubscribe(socket, id);
          dropping = false;
          id = await subscribe(socket, target, cursor);
          if (id === undefined) return true;
          break;
      }
    }
  } finally {
    if (id !== undefined && socket.connected) await unsubscribe(socket, id);
    socket.removeAllListeners();
    socket.disconnect();
  }
}

async function unsubscribe(socket: WatchSocket, id: number): Promise<void> {
  await socket
    .timeout(UNSUBSCRIBE_TIMEOUT_MS)
    .emitWithAck('unsubscribe', { id })
    .catch(() => undefined);
}

/** The subscription id, or undefined when the socket went away before the ack. */
async function subscribe(socket: WatchSocket, target: WatchTarget, cursor: WatchCursor): Promise<number | undefined> {
  let ack: SubscribeAck;
  try {
    const fromIndex = cursor.next;
    const request = { key: target.key, recurse: target.recurse, prev: true, ...(fromIndex === undefined ? {} : { fromIndex }) };
    ack = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', request)) as SubscribeAck;
  } catch {
    return undefined; // no ack in time: the connection is unusable, reconnect
  }
  if (!ack.ok) throw new SwitchboardError('WATCH_REFUSED', `watch of ${JSON.stringify(target.key)} refused: ${ack.error}`);
  cursor.started(ack.index);
  return ack.id;
}
