import { sleep } from './abort.js';
import { durationMs } from './duration.js';
import { SwitchboardError } from './errors.js';
import { type HttpTransport, keyPath } from './http.js';
import { blockingTimeoutMs, type CallOptions, type ReadOptions } from './kv.js';
import { backoffDelay } from './retry-policy.js';

export interface SessionOptions extends CallOptions {
  readonly name?: string;
  /** Go duration, 10s–24h; the server ends the session when it is not renewed in time. */
  readonly ttl?: string;
  /** Go duration: how long the keys it held stay un-acquirable after it ends. @default '15s' */
  readonly lockDelay?: string;
  /** What happens to held keys when the session ends. @default 'release' */
  readonly behavior?: 'release' | 'delete';
  readonly node?: string;
}

/** A session as the server describes it. */
export interface SessionInfo {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  readonly lockDelayMs: number;
  readonly behavior: 'release' | 'delete';
  /** As given at creation (`""` when none). */
  readonly ttl: string;
  readonly createIndex: number;
}

interface WireSession {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number;
  Behavior: 'release' | 'delete';
  TTL: string;
  CreateIndex: number;
}

/** `/v1/session/*`. `create` hands back a Session handle that can renew itself. */
export class SessionsApi {
  constructor(private readonly http: HttpTransport) {}

  async create(options: SessionOptions = {}): Promise<Session> {
    const body = JSON.stringify({ Name: options.name, TTL: options.ttl, LockDelay: options.lockDelay, Behavior: options.behavior, Node: options.node });
    const reply = await this.http.request('PUT', '/v1/session/create', { body, signal: options.signal });
    const { ID } = JSON.parse(reply.text) as { ID: string };
    return new Session(this, ID, options.ttl === undefined ? 0 : durationMs(options.ttl));
  }

  /** Restarts the session's TTL; undefined when the session no longer exists. */
  async renew(id: string, options: CallOptions = {}): Promise<SessionInfo | undefined> {
    const reply = await this.http.request('PUT', `/v1/session/renew/${keyPath(id)}`, { signal: options.signal, accept: [404] });
    return reply.status === 404 ? undefined : sessionInfos(reply.text)[0];
  }

  /** Ends the session (its keys are released or deleted); a missing session is not an error. */
  async destroy(id: string, options: CallOptions = {}): Promise<void> {
    await this.http.request('PUT', `/v1/session/destroy/${keyPath(id)}`, { signal: options.signal });
  }

  async info(id: string, options: ReadOptions = {}): Promise<SessionInfo | undefined> {
    return sessionInfos(await this.read(`/v1/session/info/${keyPath(id)}`, options))[0];
  }

  async list(options: ReadOptions = {}): Promise<SessionInfo[]> {
    return sessionInfos(await this.read('/v1/session/list', options));
  }

  /** Sessions bound to a node name. */
  async node(node: string, options: ReadOptions = {}): Promise<SessionInfo[]> {
    return sessionInfos(await this.read(`/v1/session/node/${keyPath(node)}`, options));
  }

  private async read(path: string, options: ReadOptions): Promise<string> {
    const blocking = options.index !== undefined && options.index > 0;
    const query = { index: options.index, wait: options.waitMs === undefined ? undefined : `${options.waitMs}ms`, consistent: options.consistent };
    const timeout = blocking ? { timeoutMs: blockingTimeoutMs(options.waitMs ?? 300_000) } : {};
    return (await this.http.request('GET', path, { query, signal: options.signal, ...timeout })).text;
  }
}

function sessionInfos(text: string): SessionInfo[] {
  return (JSON.parse(text) as WireSession[]).map((s) => ({
    id: s.ID,
    name: s.Name,
    node: s.Node,
    lockDelayMs: s.LockDelay / 1e6,
    behavior: s.Behavior,
    ttl: s.TTL,
    createIndex: s.CreateIndex,
  }));
}

/**
 * A session this client created. `keepAlive()` renews it every TTL/2; `signal` aborts when the
 * session ends: SESSION_EXPIRED when a renewal finds it gone or renewals failed for a whole TTL
 * (the server may then have expired it), ABORTED when destroyed here. `await using` destroys it.
 */
export class Session implements AsyncDisposable {
  private readonly ended = new AbortController();
  private renewing = false;

  constructor(
    private readonly api: SessionsApi,
    readonly id: string,
    /** The TTL in milliseconds, 0 when the session has none. */
    readonly ttlMs: number,
  ) {}

  /** Aborts when the session ends; its `reason` says why (a SwitchboardError). */
  get signal(): AbortSignal {
    return this.ended.signal;
  }

  /** Renews once; rejects with SESSION_EXPIRED (and aborts `signal`) when the session is gone. */
  async renew(options: CallOptions = {}): Promise<void> {
    if ((await this.api.renew(this.id, options)) === undefined) {
      const error = new SwitchboardError('SESSION_EXPIRED', `session ${this.id} no longer exists`);
      this.ended.abort(error);
      throw error;
    }
  }

  /** Starts renewing every TTL/2 in the background until the session ends; returns this. */
  keepAlive(): this {
    if (this.renewing || this.ttlMs === 0) return this;
    this.renewing = true;
    void this.renewLoop();
    return this;
  }

  async destroy(options: CallOptions = {}): Promise<void> {
    if (!this.ended.signal.aborted) this.ended.abort(new SwitchboardError('ABORTED', `session ${this.id} destroyed by its owner`));
    await this.api.destroy(this.id, options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /**
   * A failed renewal is retried with backoff; once a whole TTL has passed since the last good
   * one the session counts as lost, because the server may expire it from then on (it waits
   * TTL × multiplier): liveness is preferred over safety, as in Consul.
   */
  private async renewLoop(): Promise<void> {
    const stop = this.ended.signal;
    let lastRenewed = Date.now();
    let failures = 0;
    while (!stop.aborted) {
      const delay = failures === 0 ? this.ttlMs / 2 : backoffDelay(failures - 1, { initialDelayMs: 200, maxDelayMs: this.ttlMs / 4 });
      try {
        await sleep(delay, stop);
        await this.renew({ signal: stop });
        lastRenewed = Date.now();
        failures = 0;
      } catch (error) {
        if (stop.aborted) return;
        failures++;
        if (Date.now() - lastRenewed >= this.ttlMs) {
          this.ended.abort(new SwitchboardError('SESSION_EXPIRED', `session ${this.id} could not be renewed for a whole TTL`, { cause: error }));
        }
      }
    }
  }
}
