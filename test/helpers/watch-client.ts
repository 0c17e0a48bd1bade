import { io, type Socket } from 'socket.io-client';
import type {
  CompactedMessage,
  EventsMessage,
  OverflowMessage,
  ProgressMessage,
  SubscribeAck,
  SubscribeRequest,
  UnsubscribeAck,
  WatchClientToServerEvents,
  WatchServerToClientEvents,
} from '../../src/protocol/watch-protocol.js';

export type WatchSocket = Socket<WatchServerToClientEvents, WatchClientToServerEvents>;

const ACK_TIMEOUT_MS = 5000;

/**
 * A real socket.io client on a server's `/watch` namespace that records everything it receives,
 * in arrival order, and lets a test wait for a condition on the record (bounded, no sleeps).
 */
export class WatchClient {
  readonly events: EventsMessage[] = [];
  readonly progress: ProgressMessage[] = [];
  readonly compacted: CompactedMessage[] = [];
  readonly overflow: OverflowMessage[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: WatchSocket) {
    const record =
      <T>(into: T[]) =>
      (message: T): void => {
        into.push(message);
        for (const wake of [...this.waiters]) wake();
      };
    socket.on('events', record(this.events));
    socket.on('progress', record(this.progress));
    socket.on('compacted', record(this.compacted));
    socket.on('overflow', record(this.overflow));
  }

  /** Connects over websocket only (the transport the stalled-reader test pauses). */
  static async connect(baseUrl: string, options: { token?: string } = {}): Promise<WatchClient> {
    const socket: WatchSocket = io(`${baseUrl}/watch`, { transports: ['websocket'], reconnection: false, auth: options, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new WatchClient(socket);
  }

  async subscribe(request: SubscribeRequest): Promise<SubscribeAck> {
    return this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('subscribe', request) as Promise<SubscribeAck>;
  }

  /** Subscribes and fails the test unless the server accepted. */
  async subscribed(request: SubscribeRequest): Promise<{ id: number; index: number }> {
    const ack = await this.subscribe(request);
    if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(request)} refused: ${ack.error}`);
    return ack;
  }

  async unsubscribe(id: number): Promise<UnsubscribeAck> {
    return this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('unsubscribe', { id }) as Promise<UnsubscribeAck>;
  }

  /** Events messages of one subscription, in arrival order. */
  eventsOf(id: number): EventsMessage[] {
    return this.events.filter((message) => message.id === id);
  }

  /** Resolves once `condition` holds on what was received, re-checked on every message. */
  until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what}: not received within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}
