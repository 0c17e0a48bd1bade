import { type HttpTransport, keyPath } from './http.js';
import { blockingTimeoutMs, type CallOptions } from './kv.js';
import { type ChangeEvent, changeEvent, type KvVersion, kvVersion, parseExactJson } from './wire.js';

export interface HistoryOptions extends CallOptions {
  /** Treat the key as a prefix. */
  readonly recurse?: boolean;
  /** Events strictly after this index. @default 0 (everything retained) */
  readonly index?: number;
  /** Block until at least one event exists, at most this long. */
  readonly waitMs?: number;
}

export interface HistoryPage {
  /** The server's index when it answered: every event up to it is in `events`. */
  readonly index: number;
  readonly events: ChangeEvent[];
}

export interface RollbackOptions extends CallOptions {
  /** Only if the key's ModifyIndex is still this. */
  readonly cas?: number;
}

/** Switchboard's additions to Consul's API: `/v1/history`, `/v1/versions`, `?rollback`. */
export class HistoryApi {
  constructor(private readonly http: HttpTransport) {}

  /** Changes after `index`, in order; rejects with CompactedError when they are no longer retained. */
  async history(key: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    const waitMs = options.waitMs;
    const query = { recurse: options.recurse, index: options.index ?? 0, wait: waitMs === undefined ? undefined : `${waitMs}ms` };
    const reply = await this.http.request('GET', `/v1/history/${keyPath(key)}`, {
      query,
      signal: options.signal,
      ...(waitMs === undefined ? {} : { timeoutMs: blockingTimeoutMs(waitMs) }),
    });
    const page = parseExactJson(reply.text) as { Index: number; Events: Parameters<typeof changeEvent>[0][] };
    return { index: page.Index, events: page.Events.map(changeEvent) };
  }

  /** Retained versions of a key, newest first; rejects with NOT_FOUND when none is retained. */
  async versions(key: string, options: CallOptions = {}): Promise<KvVersion[]> {
    const reply = await this.http.request('GET', `/v1/versions/${keyPath(key)}`, { signal: options.signal });
    return (parseExactJson(reply.text) as Parameters<typeof kvVersion>[0][]).map(kvVersion);
  }

  /**
   * Writes the version whose ModifyIndex was `modifyIndex` back as a new version; false when a
   * `cas` condition did not hold, NOT_FOUND when that version is not retained.
   */
  async rollback(key: string, modifyIndex: number, options: RollbackOptions = {}): Promise<boolean> {
    const reply = await this.http.request('PUT', `/v1/kv/${keyPath(key)}`, {
      query: { rollback: modifyIndex, cas: options.cas },
      signal: options.signal,
    });
    return reply.text.trim() === 'true';
  }
}
