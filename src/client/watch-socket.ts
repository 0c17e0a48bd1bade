import { io, type Socket } from 'socket.io-client';
import {
  type CompactedMessage,
  type EventsMessage,
  type OverflowMessage,
  type ProgressMessage,
  type SubscribeAck,
  WATCH_NAMESPACE,
  type WatchClientToServerEvents,
  type WatchServerToClientEvents,
} from '../protocol/watch-protocol.js';
import { abortedError } from './abort.js';
import { CompactedError, SwitchboardError } from './errors.js';
import { MessageQueue } from './message-queue.js';
import { changeEvent } from './wire.js';
import type { WatchBatch, WatchCursor, WatchTarget } from './watch-cursor.js';

type WatchSocket = Socket<WatchServerToClientEvents, WatchClientToServerEvents>;

type Incoming =
  | { readonly kind: 'events'; readonly message: EventsMessage }
  | { readonly kind: 'progress'; readonly message: ProgressMessage }
  | { readonly kind: 'compacted'; readonly message: CompactedMessage }
  | { readonly kind: 'overflow'; readonly message: OverflowMessage }
  | { readonly kind: 'disconnect'; readonly reason: string };

const ACK_TIMEOUT_MS = 5000;
/** A `break` waits at most this long for the server to confirm the unsubscribe. */
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
 */
export async function* followOnSocket(
  socket: WatchSocket,
  target: WatchTarget,
  cursor: WatchCursor,
  signal: AbortSignal,
): AsyncGenerator<WatchBatch, boolean, undefined> {
  const queue = new MessageQueue<Incoming>();
  socket.on('events', (message) => queue.push({ kind: 'events', message }));
  socket.on('progress', (message) => queue.push({ kind: 'progress', message }));
  socket.on('compacted', (message) => queue.push({ kind: 'compacted', message }));
  socket.on('overflow', (message) => queue.push({ kind: 'overflow', message }));
  socket.on('disconnect', (reason) => queue.push({ kind: 'disconnect', reason }));
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
      }
    }
  } finally {
    if (id !== undefined && socket.connected) {
      await socket
        .timeout(UNSUBSCRIBE_TIMEOUT_MS)
        .emitWithAck('unsubscribe', { id })
        .catch(() => undefined);
    }
    socket.removeAllListeners();
    socket.disconnect();
  }
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
