import { anySignal, sleep } from './abort.js';
import { readBootCache, writeBootCache } from './boot-cache.js';
import { CompactedError, isTransient, SwitchboardError } from './errors.js';
import type { CallOptions, Indexed, KvApi } from './kv.js';
import { backoffDelay, type BackoffOptions } from './retry-policy.js';
import type { WatchBatch, WatchOptions } from './watch.js';
import type { KvEntry } from './wire.js';

/** `signal` cancels the boot only; once open, a LiveConfig runs until close() (or the client's). */
export interface LiveConfigOptions extends CallOptions {
  /** Where the last good state is kept; without it a boot with the server down fails. */
  readonly cacheFile?: string;
  /** How long boot waits for the server before serving the cache. @default 5000 */
  readonly bootTimeoutMs?: number;
}

/** Where the current data came from. */
export type ConfigSource = 'server' | 'cache';

export interface ConfigChange {
  /** The index the data is now current at. */
  readonly index: number;
  readonly source: ConfigSource;
  /** Full keys added, changed or removed by this change, in key order. */
  readonly changedKeys: readonly string[];
}

export interface LiveConfigDeps {
  readonly kv: KvApi;
  readonly watch: (key: string, options: WatchOptions) => AsyncIterable<WatchBatch>;
  readonly closed: AbortSignal;
  readonly backoff: BackoffOptions;
  readonly warn: (message: string) => void;
  /** Called when the config closes, so its owner stops tracking it. */
  readonly forget: (config: LiveConfig) => void;
}

/**
 * A prefix kept in memory and up to date: listed at boot, then followed with a watch, a whole
 * write (a txn) applied at once. With `cacheFile`, every state is also written to disk, and a
 * boot that cannot reach the server serves that file (saying so once through the logger) while
 * it keeps reconnecting; once it reaches the server it re-lists and serves live data. Open one
 * with `Switchboard.liveConfig(prefix)`.
 */
export class LiveConfig implements AsyncDisposable {
  private entries: ReadonlyMap<string, KvEntry>;
  private currentIndex: number;
  private currentSource: ConfigSource;
  private readonly listeners = new Set<(change: ConfigChange) => void>();
  private readonly stopped = new AbortController();
  private readonly signal: AbortSignal;
  private cacheWrite: Promise<void> = Promise.resolve();
  private cacheWarned = false;
  private cacheWriteQueued = false;
  private following: Promise<void> = Promise.resolve();

  private constructor(
    private readonly deps: LiveConfigDeps,
    readonly prefix: string,
    private readonly cacheFile: string | undefined,
    initial: Indexed<readonly KvEntry[]>,
    source: ConfigSource,
  ) {
    this.entries = new Map(initial.value.map((entry) => [entry.key, entry]));
    this.currentIndex = initial.index;
    this.currentSource = source;
    this.signal = anySignal(deps.closed, this.stopped.signal);
  }

  /**
   * Resolves once the prefix is loaded, from the server or else from the cache file; rejects
   * with UNAVAILABLE when the server is unreachable and there is no cache to serve.
   */
  static async open(deps: LiveConfigDeps, prefix: string, options: LiveConfigOptions = {}): Promise<LiveConfig> {
    const bootTimeout = AbortSignal.timeout(options.bootTimeoutMs ?? 5000);
    let listing: Indexed<KvEntry[]>;
    try {
      listing = await deps.kv.listWithIndex(prefix, { signal: anySignal(options.signal, bootTimeout) });
    } catch (error) {
      if (options.signal?.aborted || !(isTransient(error) || bootTimeout.aborted)) throw error;
      const reason = bootTimeout.aborted ? `no answer within ${options.bootTimeoutMs ?? 5000} ms` : (error as Error).message;
      const cached = options.cacheFile === undefined ? undefined : await readBootCache(options.cacheFile, prefix);
      if (cached === undefined) {
        const cache = options.cacheFile === undefined ? 'no cacheFile is configured' : `there is no cache at ${options.cacheFile}`;
        throw new SwitchboardError('UNAVAILABLE', `cannot load ${JSON.stringify(prefix)}: server unreachable (${reason}) and ${cache}`, { cause: error });
      }
      deps.warn(`serving ${JSON.stringify(prefix)} from cache ${options.cacheFile} (server unreachable: ${reason})`);
      const config = new LiveConfig(deps, prefix, options.cacheFile, { value: cached.entries, index: cached.index }, 'cache');
      config.following = config.follow(false);
      return config;
    }
    const config = new LiveConfig(deps, prefix, options.cacheFile, listing, 'server');
    config.saveCache();
    config.following = config.follow(true);
    return config;
  }

  get index(): number {
    return this.currentIndex;
  }

  get source(): ConfigSource {
    return this.currentSource;
  }

  /** The entry of a full key (prefix included), or undefined. */
  get(key: string): KvEntry | undefined {
    return this.entries.get(key);
  }

  /** Every entry, keyed by full key; an immutable view that later changes do not touch. */
  snapshot(): ReadonlyMap<string, KvEntry> {
    return this.entries;
  }

  /** Calls `listener` after every change; returns the function that unsubscribes it. */
  onChange(listener: (change: ConfigChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops following and waits for the last cache write. */
  async close(): Promise<void> {
    this.stopped.abort(new SwitchboardError('ABORTED', 'live config closed'));
    this.deps.forget(this);
    await this.following;
    await this.cacheWrite;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lists (unless just listed), then watches from the listing; re-lists after a compaction. */
  private async follow(listed: boolean): Promise<void> {
    let failures = 0;
    while (!this.signal.aborted) {
      try {
        if (!listed) {
          const listing = await this.deps.kv.listWithIndex(this.prefix, { signal: this.signal });
          if (this.currentSource === 'cache') this.deps.warn(`${JSON.stringify(this.prefix)}: server reachable again, serving live data`);
          this.replaceAll(listing);
          listed = true;
          failures = 0;
        }
        for await (const batch of this.deps.watch(this.prefix, { recurse: true, fromIndex: this.currentIndex + 1, signal: this.signal })) {
          this.applyBatch(batch);
        }
      } catch (error) {
        if (this.signal.aborted) return;
        if (error instanceof CompactedError) {
          listed = false;
          continue;
        }
        if (!isTransient(error)) this.deps.warn(`following ${JSON.stringify(this.prefix)} failed, retrying: ${String(error)}`);
        await sleep(backoffDelay(failures++, this.deps.backoff), this.signal).catch(() => undefined);
      }
    }
  }

  private replaceAll(listing: Indexed<KvEntry[]>): void {
    const next = new Map(listing.value.map((entry) => [entry.key, entry]));
    const changed = new Set<string>();
    for (const [key, entry] of next) if (!sameEntry(this.entries.get(key), entry)) changed.add(key);
    for (const key of this.entries.keys()) if (!next.has(key)) changed.add(key);
    this.commit(next, listing.index, changed);
  }

  private applyBatch(batch: WatchBatch): void {
    const next = new Map(this.entries);
    for (const event of batch.events) {
      if (event.type === 'delete') next.delete(event.key);
      else next.set(event.key, pickEntry(event));
    }
    this.commit(next, batch.index, new Set(batch.events.map((event) => event.key)));
  }

  private commit(entries: ReadonlyMap<string, KvEntry>, index: number, changed: ReadonlySet<string>): void {
    this.entries = entries;
    this.currentIndex = index;
    this.currentSource = 'server';
    this.saveCache();
    const change: ConfigChange = { index, source: 'server', changedKeys: [...changed].sort() };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        // One listener's bug must neither stop the others nor the following of the prefix.
        this.deps.warn(`a change listener of ${JSON.stringify(this.prefix)} threw: ${String(error)}`);
      }
    }
  }

  /**
   * Cache writes run one after another, each writing the state current when it starts, so a
   * burst of changes costs one write in flight plus one queued.
   */
  private saveCache(): void {
    const file = this.cacheFile;
    if (file === undefined || this.cacheWriteQueued) return;
    this.cacheWriteQueued = true;
    this.cacheWrite = this.cacheWrite.then(async () => {
      this.cacheWriteQueued = false;
      try {
        await writeBootCache(file, { prefix: this.prefix, index: this.currentIndex, entries: [...this.entries.values()] });
      } catch (error) {
        if (!this.cacheWarned) this.deps.warn(`cannot write cache ${file}: ${String(error)}`);
        this.cacheWarned = true;
      }
    });
  }
}

function pickEntry(event: KvEntry): KvEntry {
  const { key, value, flags, createIndex, modifyIndex, lockIndex, session } = event;
  return session === undefined ? { key, value, flags, createIndex, modifyIndex, lockIndex } : { key, value, flags, createIndex, modifyIndex, lockIndex, session };
}

function sameEntry(a: KvEntry | undefined, b: KvEntry): boolean {
  return a !== undefined && a.modifyIndex === b.modifyIndex && a.value.equals(b.value) && a.flags === b.flags && a.session === b.session;
}
