import { Redis, type RedisOptions } from 'ioredis';
import { defineLogScripts, type ScriptedRedis } from './redis-scripts.js';

/**
 * One ioredis connection, wrapped so that nothing the log waits for can hang:
 * - ioredis reconnects by itself, but with `autoResendUnfulfilledCommands: false` (a resent
 *   append could land twice) it never settles a command that was in flight when the socket
 *   closed; `within()` therefore races every reply against the close event and a deadline;
 * - the offline queue is off: a command is only ever sent on a ready connection, so a command
 *   that failed to send is known not to have run, and callers wait with `whenReady(deadline)`;
 * - `generation` counts 'ready' events, which tells commands sent on different sockets apart
 *   (the append fence relies on it); `lastContact` is the time of the last reply or ready.
 */
export interface RedisTarget {
  /** redis:// or rediss:// (TLS); with sentinels, only its credentials and db are used. */
  readonly url?: string;
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  readonly masterName?: string;
}

export interface RedisLogLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The socket closed while a reply was outstanding: the command may or may not have run. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

/** No reply before the caller's deadline: the command may or may not have run. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

const RECONNECT_CAP_MS = 1000;
/** setTimeout fires at once for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RedisConnection {
  readonly client: ScriptedRedis;
  generation = 0;
  lastContact = Date.now();
  /** The last error ioredis reported: all a connection that never comes up can say about why. */
  lastError?: string;
  private readonly onLost = new Set<() => void>();
  private readonly onReady = new Set<() => void>();
  private outage = false;
  private closing = false;

  constructor(
    target: RedisTarget,
    private readonly role: string,
    private readonly logger: RedisLogLogger,
    connectTimeoutMs: number,
  ) {
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      enableReadyCheck: true,
      connectTimeout: connectTimeoutMs,
      keepAlive: 10_000,
      // How long a closing socket may linger before it is destroyed; ours are closed after QUIT
      // or because they are already dead, so there is nothing to wait for.
      disconnectTimeout: 200,
      connectionName: role,
      // Capped backoff with jitter: a restarted Redis is found within about a second, and many
      // nodes do not reconnect in lockstep.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 10), RECONNECT_CAP_MS) + Math.floor(Math.random() * 50),
      ...(target.sentinels === undefined ? {} : { sentinels: [...target.sentinels], name: target.masterName }),
    };
    if (target.url === undefined && target.sentinels === undefined) {
      throw new RangeError('the Redis log needs a url (redis:// or rediss://) or sentinels with a masterName');
    }
    if (target.sentinels !== undefined && !target.masterName) throw new RangeError('Redis sentinels need a masterName');
    const client = target.url === undefined ? new Redis(options) : new Redis(target.url, options);
    this.client = defineLogScripts(client);
    client.on('ready', () => this.handleReady());
    client.on('close', () => this.handleClose());
    client.on('end', () => this.handleClose());
    client.on('error', (error: Error) => {
      this.lastError = error.message;
      if (this.outage) return;
      this.outage = true;
      this.logger.warn(`Redis ${this.role} connection failed: ${error.message}; reconnecting`);
    });
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Closed by us, or ioredis gave up: it will never be ready again. */
  private get gone(): boolean {
    return this.closing || this.client.status === 'end';
  }

  connect(): void {
    // Failures surface as 'error' events and as whenReady() returning false.
    this.client.connect().catch(() => undefined);
  }

  touch(): void {
    this.lastContact = Date.now();
  }

  /**
   * Resolves true once the connection is ready (on a socket newer than `afterGeneration`, when
   * given), false at the deadline or on abort/end.
   */
  whenReady(deadline: number, signal?: AbortSignal, afterGeneration = 0): Promise<boolean> {
    const fresh = (): boolean => this.ready && this.generation > afterGeneration;
    if (fresh()) return Promise.resolve(true);
    if (this.gone || signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.onReady.delete(onReady);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onReady = (): void => {
        if (this.gone) finish(false);
        else if (fresh()) finish(true);
      };
      const onAbort = (): void => finish(false);
      const wait = deadline - Date.now();
      const timer = Number.isFinite(wait) ? setTimeout(() => finish(fresh()), Math.min(Math.max(0, wait), MAX_TIMER_MS)) : undefined;
      this.onReady.add(onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Runs `send` with the socket corked: ioredis writes each command of a pipeline separately,
   * and on loopback every write is a syscall that also does the receiving side's work. Corked,
   * the commands leave in one writev (measured: the per-command writes were the largest single
   * cost of a Redis-mode PUT, and corking them doubled PUT throughput).
   */
  corked<T>(send: () => T): T {
    const socket = this.client.stream as { cork(): void; uncork(): void } | undefined;
    socket?.cork();
    try {
      return send();
    } finally {
      socket?.uncork();
    }
  }

  /**
   * The reply to `command`, or ConnectionLostError if the socket closes first, or DeadlineError
   * at the deadline. Call it in the same turn the command was issued, on a ready connection.
   */
  within<T>(command: Promise<T>, deadline: number): Promise<T> {
    command.catch(() => undefined); // it may lose the race; its late rejection is not news
    if (!this.ready) return Promise.reject(new ConnectionLostError(`Redis ${this.role} connection is not ready`));
    return new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.onLost.delete(onLost);
      };
      const onLost = (): void => {
        finish();
        reject(new ConnectionLostError(`Redis ${this.role} connection closed before the reply`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new DeadlineError(`no reply from Redis within the deadline`));
      }, Math.max(0, deadline - Date.now()));
      this.onLost.add(onLost);
      command.then(
        (value) => {
          finish();
          this.touch();
          resolve(value);
        },
        (error: unknown) => {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * QUIT politely (bounded) unless `graceful` is false (a connection parked in XREAD BLOCK would
   * answer only after the block), then drop the socket; ends reconnecting for good.
   */
  async close(graceful = true): Promise<void> {
    this.closing = true;
    if (graceful && this.ready) {
      await this.within(this.client.quit(), Date.now() + 1000).catch(() => undefined);
    }
    this.client.disconnect();
    for (const lost of [...this.onLost]) lost();
    for (const ready of [...this.onReady]) ready();
  }

  private handleReady(): void {
    this.generation++;
    this.touch();
    if (this.outage || this.generation > 1) this.logger.log(`Redis ${this.role} connection ready (connection #${this.generation})`);
    this.outage = false;
    for (const ready of [...this.onReady]) ready();
  }

  private handleClose(): void {
    if (!this.outage && !this.closing) {
      this.outage = true;
      this.logger.warn(`Redis ${this.role} connection lost; reconnecting`);
    }
    for (const ready of [...this.onReady]) ready();
    for (const lost of [...this.onLost]) lost();
    this.onLost.clear();
  }
}
