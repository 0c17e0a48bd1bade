import { HistoryApi, type HistoryOptions, type HistoryPage, type RollbackOptions } from './history.js';
import { HttpTransport } from './http.js';
import { KvApi, type CallOptions } from './kv.js';
import { LiveConfig, type LiveConfigOptions } from './live-config.js';
import { acquireLock, elect, type ElectOptions, type Lock, type LockOptions } from './lock.js';
import type { BackoffOptions } from './retry-policy.js';
import { SessionsApi } from './sessions.js';
import type { WatchBufferLimits } from './watch-socket.js';
import { type WatchBatch, type WatchContext, type WatchOptions, type WatchTransport, watchBatches, watchEvents } from './watch.js';
import { SwitchboardError } from './errors.js';
import type { ChangeEvent, KvVersion } from './wire.js';

export interface SwitchboardLogger {
  warn(message: string): void;
}

export interface SwitchboardOptions {
  /** Base URL of any node. @default 'http://127.0.0.1:8500' */
  readonly address?: string;
  /** ACL token, sent as `X-Consul-Token` and in the watch handshake. */
  readonly token?: string;
  /** Timeout of a non-blocking request. @default 30_000 */
  readonly timeoutMs?: number;
  /** How watches reach the server (see WatchTransport). @default 'auto' */
  readonly transport?: WatchTransport;
  /** Reconnect and retry delays: capped exponential backoff with jitter. @default {initialDelayMs: 100, maxDelayMs: 10_000} */
  readonly backoff?: BackoffOptions;
  /** In `auto`, socket connects that must fail (while HTTP answers) before falling back. @default 3 */
  readonly fallbackAfter?: number;
  /** How long one long-poll may block. @default 60_000 */
  readonly longPollWaitMs?: number;
  /**
   * Events (and estimated bytes) a socket watch holds for a consumer that has not taken them yet.
   * Past either, it drops what arrives and, once the consumer catches up, resubscribes from where
   * it is: memory stays bounded, no event is missed, the server replays what was dropped.
   * The server's defaults per subscription (WATCH_BUFFER_EVENTS, WATCH_BUFFER_BYTES).
   * @default {events: 10_000, bytes: 8 MiB}
   */
  readonly watchBuffer?: Partial<WatchBufferLimits>;
  /** Default `cacheFile` of liveConfig(). */
  readonly cacheFile?: string;
  /** Receives the SDK's few warnings (cache fallbacks, transport fallbacks). @default console */
  readonly logger?: SwitchboardLogger;
}

/**
 * A client of one Switchboard (or Consul, for the KV/session subset) cluster. Every call takes
 * `{signal}` and then rejects with code ABORTED when it fires; errors are SwitchboardErrors with
 * stable codes. `close()` (or `await using`) releases locks taken through this client and ends
 * its watches, live configs and requests in flight.
 */
export class Switchboard implements AsyncDisposable {
  readonly kv: KvApi;
  readonly sessions: SessionsApi;
  private readonly historyApi: HistoryApi;
  /** Fires first on close: watches, waits and elections stop; requests still go out. */
  private readonly stopping = new AbortController();
  /** Fires last on close: aborts every request still in flight. */
  private readonly closed = new AbortController();
  private readonly watchContext: WatchContext;
  private readonly locks = new Set<Lock>();
  private readonly liveConfigs = new Set<LiveConfig>();

  constructor(private readonly options: SwitchboardOptions = {}) {
    const http = new HttpTransport(
      { address: options.address ?? 'http://127.0.0.1:8500', token: options.token, timeoutMs: options.timeoutMs ?? 30_000 },
      this.closed.signal,
    );
    this.kv = new KvApi(http);
    this.sessions = new SessionsApi(http);
    this.historyApi = new HistoryApi(http);
    const logger = options.logger ?? console;
    this.watchContext = {
      http,
      kv: this.kv,
      history: this.historyApi,
      token: options.token,
      closed: this.stopping.signal,
      transport: options.transport ?? 'auto',
      fallbackAfter: options.fallbackAfter ?? 3,
      connectTimeoutMs: 5000,
      backoff: options.backoff ?? {},
      buffer: { events: options.watchBuffer?.events ?? 10_000, bytes: options.watchBuffer?.bytes ?? 8 * 1024 * 1024 },
      waitMs: options.longPollWaitMs ?? 60_000,
      intervalMs: 500,
      warn: (message) => logger.warn(message),
    };
  }

  /** Changes after `index` under a key or prefix; rejects with CompactedError below the retained history. */
  history(key: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.historyApi.history(key, options);
  }

  /** Retained versions of a key, newest first. */
  versions(key: string, options: CallOptions = {}): Promise<KvVersion[]> {
    return this.historyApi.versions(key, options);
  }

  /** Writes a retained version back as the newest; false when `cas` did not hold. */
  rollback(key: string, modifyIndex: number, options: RollbackOptions = {}): Promise<boolean> {
    return this.historyApi.rollback(key, modifyIndex, options);
  }

  /**
   * Every change to a key (or with `recurse`, under a prefix), one event at a time, as an async
   * iterable: ordered, each exactly once, none missing, across reconnects (capped exponential
   * backoff with jitter) and server restarts — the watch resumes from the last index it
   * delivered. Events of one write are adjacent and share `index` (use watchBatches to get them
   * together). Leaving the loop (`break`) ends the subscription on the server. The iterator
   * throws CompactedError when history no longer reaches back to where it must resume (re-list,
   * then watch from the listing's index + 1; liveConfig does this for you), and ABORTED when
   * `signal` fires or the client closes.
   */
  watch(key: string, options: WatchOptions = {}): AsyncIterable<ChangeEvent> {
    return watchEvents(this.watchContext, key, options);
  }

  /** watch(), one write at a time: all events of a txn or delete-tree in one batch. */
  watchBatches(key: string, options: WatchOptions = {}): AsyncIterable<WatchBatch> {
    return watchBatches(this.watchContext, key, options);
  }

  /**
   * Waits until this client holds the lock on `key` (see Lock: `lockIndex` is the fencing
   * token, `signal` aborts when the lock is lost). Rejects with ABORTED when `signal` fires first.
   */
  async lock(key: string, options: LockOptions = {}): Promise<Lock> {
    const lock = await acquireLock({ kv: this.kv, sessions: this.sessions }, key, this.untilClosed(options));
    this.locks.add(lock);
    lock.session.signal.addEventListener('abort', () => this.locks.delete(lock), { once: true });
    return lock;
  }

  /** Primary/standby on `key` until `signal` aborts (see ElectOptions); resolves then. */
  elect(key: string, options: ElectOptions): Promise<void> {
    return elect((lockKey, lockOptions) => this.lock(lockKey, lockOptions), key, this.untilClosed(options));
  }

  /**
   * A prefix kept in memory and live (see LiveConfig), booting from `cacheFile` (default: the
   * client's) when the server is unreachable.
   */
  async liveConfig(prefix: string, options: LiveConfigOptions = {}): Promise<LiveConfig> {
    const cacheFile = options.cacheFile ?? this.options.cacheFile;
    const config = await LiveConfig.open(
      {
        kv: this.kv,
        watch: (key, watchOptions) => this.watchBatches(key, watchOptions),
        closed: this.stopping.signal,
        backoff: this.watchContext.backoff,
        warn: this.watchContext.warn,
        forget: (closed) => this.liveConfigs.delete(closed),
      },
      prefix,
      { ...options, ...(cacheFile === undefined ? {} : { cacheFile }) },
    );
    this.liveConfigs.add(config);
    return config;
  }

  /** Releases this client's locks, closes its live configs, then aborts everything in flight. */
  async close(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const reason = new SwitchboardError('ABORTED', 'the client was closed');
    this.stopping.abort(reason);
    await Promise.allSettled([...this.locks].map((lock) => lock.release()));
    await Promise.allSettled([...this.liveConfigs].map((config) => config.close()));
    this.closed.abort(reason);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The caller's options, with their signal also firing when the client closes. */
  private untilClosed<T extends CallOptions>(options: T): T {
    const stopping = this.stopping.signal;
    return { ...options, signal: options.signal === undefined ? stopping : AbortSignal.any([options.signal, stopping]) };
  }
}
