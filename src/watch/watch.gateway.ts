import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import {
  type SubscribeAck,
  type UnsubscribeAck,
  WATCH_NAMESPACE,
  type WatchClientToServerEvents,
  type WatchServerToClientEvents,
} from '../protocol/watch-protocol.js';
import { type OutgoingMessage, SubscriptionHub, type WatchConnection, type WatchSink } from './subscription-hub.js';
import { parseSubscribe, parseUnsubscribe } from './watch-requests.js';

interface WatchSocketData {
  connection: WatchConnection;
  /** The handshake's `auth.token`, kept for the ACL checks to come. */
  token?: string;
}

type WatchSocket = Socket<WatchClientToServerEvents, WatchServerToClientEvents, Record<string, never>, WatchSocketData>;
type EngineTransport = WatchSocket['conn']['transport'];

/**
 * Adapts a socket to the hub. Backpressure is read from engine.io, not guessed from timing: a
 * transport is `writable` only once it has written out everything handed to it (websocket: the
 * last frame's write callback fired, i.e. the kernel took it; polling: a GET is waiting).
 * Meanwhile engine.io would buffer whatever we emit without limit, so the hub emits only to a
 * writable transport and keeps the rest in its own bounded per-subscription queues. A client
 * that stops reading fills the kernel buffers, the transport stays unwritable, and its
 * subscriptions overflow. The transport announces writability with `ready`; an upgrade
 * (polling → websocket) swaps the transport, so the listener follows it.
 */
class SocketSink implements WatchSink {
  private transport: EngineTransport;

  constructor(
    private readonly socket: WatchSocket,
    onDrained: () => void,
  ) {
    this.transport = socket.conn.transport;
    this.transport.on('ready', onDrained);
    socket.conn.on('upgrade', (next: EngineTransport) => {
      this.transport.off('ready', onDrained);
      this.transport = next;
      next.on('ready', onDrained);
      onDrained();
    });
  }

  isDrained(): boolean {
    return this.socket.conn.transport.writable;
  }

  write(messages: readonly OutgoingMessage[]): void {
    for (const { name, message } of messages) this.emit(name, message);
  }

  private emit(name: OutgoingMessage['name'], message: OutgoingMessage['message']): void {
    // The union is correlated by construction in OutgoingMessage; socket.io's typed emit cannot see it.
    (this.socket.emit as (event: string, payload: unknown) => boolean)(name, message);
  }
}

type AckCallback<T> = ((reply: T) => void) | undefined;

/**
 * Subscriptions one socket may hold: each costs hub memory and a history replay, so one client
 * must not be able to take the server's memory by subscribing in a loop.
 */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1024;

/**
 * The `/watch` namespace on the server's own port: thin, all logic in SubscriptionHub. Replies
 * go through acks (Nest's exception events carry no correlation to the request); a payload that
 * is not a valid request is answered `{ok: false, error}` when the client asked for an ack and
 * otherwise ignored, so no frame a client sends can break the socket or the server.
 */
@WebSocketGateway({ namespace: WATCH_NAMESPACE, serveClient: false })
export class WatchGateway implements OnGatewayInit, OnGatewayConnection<WatchSocket>, OnGatewayDisconnect<WatchSocket>, OnApplicationShutdown {
  private progressTimer?: NodeJS.Timeout;

  constructor(
    private readonly hub: SubscriptionHub,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  afterInit(): void {
    this.progressTimer = setInterval(() => this.hub.progressTick(), this.config.watch.progressMs);
    this.progressTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.progressTimer);
  }

  /** The connection hook: where ACLs will check the handshake's token. */
  handleConnection(socket: WatchSocket): void {
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === 'object' && auth !== null && 'token' in auth && typeof auth.token === 'string' ? auth.token : undefined;
    if (!this.admits(token)) {
      socket.disconnect(true);
      return;
    }
    socket.data.token = token;
    // The sink's drain signal reaches the connection through socket.data, set just below.
    const sink = new SocketSink(socket, () => socket.data.connection.drained());
    socket.data.connection = this.hub.connect(sink);
  }

  handleDisconnect(socket: WatchSocket): void {
    (socket.data.connection as WatchConnection | undefined)?.close();
  }

  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: WatchSocket, @MessageBody() payload: unknown, @Ack() ack: AckCallback<SubscribeAck>): void {
    const parsed = parseSubscribe(payload);
    if (!parsed.ok) return reply(ack, parsed);
    const { connection } = socket.data;
    if (connection.subscriptionCount >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      return reply(ack, { ok: false, error: `too many subscriptions on this connection (at most ${MAX_SUBSCRIPTIONS_PER_SOCKET}); open another connection` });
    }
    reply(ack, { ok: true, ...connection.subscribe(parsed.request) });
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: WatchSocket, @MessageBody() payload: unknown, @Ack() ack: AckCallback<UnsubscribeAck>): void {
    const parsed = parseUnsubscribe(payload);
    if (!parsed.ok) return reply(ack, parsed);
    const found = socket.data.connection.unsubscribe(parsed.request.id);
    reply(ack, found ? { ok: true } : { ok: false, error: `no subscription ${parsed.request.id} on this connection` });
  }

  /** Every token is admitted until ACLs exist; this is where they will plug in. */
  private admits(_token: string | undefined): boolean {
    return true;
  }
}

function reply<T>(ack: AckCallback<T>, answer: T): void {
  if (typeof ack === 'function') ack(answer);
}
