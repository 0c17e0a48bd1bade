import { EventEmitter, on } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a test Redis that drops connections and bytes on purpose (ioredis's
 * own tests use a fake server for the same reason): it forwards by default, and can
 * - `dropReplies` / `dropRequests`: swallow one direction (emits 'dropped-reply' / 'dropped-request');
 * - `holdRequests`: keep client bytes instead of forwarding them, for `releaseHeld()` later;
 * - `cut({ keepUpstream })`: destroy every client socket, optionally leaving the Redis side open
 *   (so held bytes can still arrive late, as over a slow network);
 * - `refuse`: accept new connections only to close them at once (Redis unreachable).
 */
type Mode = 'forward' | 'dropReplies' | 'dropRequests' | 'holdRequests';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  held: Buffer[];
}

export class SocketDropper extends EventEmitter {
  mode: Mode = 'forward';
  refuse = false;
  private readonly pairs = new Set<Pair>();
  private readonly orphans = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    super();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<SocketDropper> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const dropper = new SocketDropper(server, address.port);
    server.on('connection', (client) => dropper.accept(client, targetPort));
    return dropper;
  }

  cut(options: { keepUpstream?: boolean } = {}): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      if (options.keepUpstream === true) this.orphans.add(pair);
      else pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Sends on to Redis the held client bytes that contain `marker`; resolves with Redis's first reply to them. */
  releaseHeld(marker: string): Promise<Buffer> {
    const target = [...this.orphans, ...this.pairs].find((p) => Buffer.concat(p.held).includes(marker));
    if (target === undefined) return Promise.reject(new Error(`no held bytes contain "${marker}"`));
    const replied = new Promise<Buffer>((resolve) => target.upstream.once('data', resolve));
    target.upstream.write(Buffer.concat(target.held));
    target.held = [];
    return replied;
  }

  async close(): Promise<void> {
    this.cut();
    for (const pair of this.orphans) pair.upstream.destroy();
    this.orphans.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once a byte chunk containing `marker` is dropped or held ('dropped-request' | 'held-request' | 'dropped-reply'). */
  async until(event: 'dropped-request' | 'held-request' | 'dropped-reply', marker: string, timeoutMs = 10_000): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    for await (const [bytes] of on(this, event, { signal })) {
      if ((bytes as Buffer).includes(marker)) return;
    }
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.refuse) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    client.on('data', (bytes) => {
      if (this.mode === 'dropRequests') {
        this.emit('dropped-request', bytes);
      } else if (this.mode === 'holdRequests') {
        pair.held.push(bytes);
        this.emit('held-request', bytes);
      } else {
        upstream.write(bytes);
      }
    });
    upstream.on('data', (bytes) => {
      if (this.orphans.has(pair)) return;
      if (this.mode === 'dropReplies') this.emit('dropped-reply', bytes);
      else client.write(bytes);
    });
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      if (!this.orphans.has(pair)) upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
