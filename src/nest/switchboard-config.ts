import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { type Observable, Subject } from 'rxjs';
import { type ConfigChange, type ConfigSource, type LiveConfig, type Switchboard, SwitchboardError } from '../client/index.js';
import { type ConfigValueError, parseConfigValue } from './config-value.js';
import type { ConfigValueFormat, SwitchboardConfigOptions } from './switchboard-config.options.js';

export const DEFAULT_ADDRESS = 'http://127.0.0.1:8500';
const DEFAULT_BOOT_TIMEOUT_MS = 5000;

/**
 * One key's change, emitted by `SwitchboardConfig.changes$`. A write that changes several keys
 * (a txn, a delete-tree) emits one change per key, adjacent and sharing `index`.
 */
export interface SwitchboardConfigChange<T = unknown> {
  /** The key relative to the prefix. */
  readonly key: string;
  /** The parsed value now served: undefined once deleted; with `error`, the last good value, kept. */
  readonly value: T | undefined;
  /** The parsed value served before this change (undefined when the key is new). */
  readonly previous: T | undefined;
  /** The index the config is current at after this change. */
  readonly index: number;
  /** Set when the new value did not parse: it was refused and `value` is still the last good one. */
  readonly error?: ConfigValueError;
}

/**
 * A prefix of Switchboard's KV, parsed and kept live: booted from the server (or, with
 * `cacheFile`, from the last state written to disk when the server is unreachable), then
 * updated on every change. Provided by SwitchboardConfigModule; inject it by class.
 *
 * A value that does not parse fails boot; after boot it is refused instead of crashing the
 * app: the key keeps its last good value, and the error is logged and emitted on `changes$`.
 * Keys ending in `/` are folders (as Consul's UI creates them) and are left out.
 */
export class SwitchboardConfig implements OnApplicationShutdown {
  private readonly logger = new Logger(SwitchboardConfig.name);
  private readonly changes = new Subject<SwitchboardConfigChange>();
  /** Parsed values by relative key; replaced whole on every change. */
  private values: ReadonlyMap<string, unknown>;
  private readonly stopListening: () => void;
  private closing: Promise<void> | undefined;

  /** Every live change, one key at a time; completes when the application shuts down. */
  readonly changes$: Observable<SwitchboardConfigChange> = this.changes.asObservable();

  private constructor(
    private readonly live: LiveConfig,
    private readonly format: ConfigValueFormat,
  ) {
    const values = new Map<string, unknown>();
    for (const [fullKey, entry] of live.snapshot()) {
      const key = this.relativeKey(fullKey);
      if (key !== undefined) values.set(key, parseConfigValue(key, entry.value, format));
    }
    this.values = values;
    this.stopListening = live.onChange((change) => this.apply(change));
  }

  /**
   * Loads the prefix through `client`; rejects with one Error naming the address, the prefix and
   * the cache file when neither the server nor a cache can be read, or when a value does not parse.
   */
  static async open(client: Switchboard, options: SwitchboardConfigOptions): Promise<SwitchboardConfig> {
    const bootTimeoutMs = options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
    let live: LiveConfig;
    try {
      live = await client.liveConfig(options.prefix, { ...(options.cacheFile === undefined ? {} : { cacheFile: options.cacheFile }), bootTimeoutMs });
    } catch (error) {
      throw new Error(bootFailure(options, bootTimeoutMs, error), { cause: error });
    }
    try {
      return new SwitchboardConfig(live, options.parse ?? 'string');
    } catch (error) {
      await live.close();
      const source = live.source === 'cache' ? `cache ${options.cacheFile}` : `server ${options.address ?? DEFAULT_ADDRESS}`;
      throw new Error(`Switchboard config ${JSON.stringify(options.prefix)} unusable (from ${source}): ${(error as Error).message}`, { cause: error });
    }
  }

  /** Where the values come from: the server, or the cache file while the server is unreachable. */
  get source(): ConfigSource {
    return this.live.source;
  }

  /** The index the values are current at. */
  get index(): number {
    return this.live.index;
  }

  /** The parsed value of `key`, relative to the prefix (`db_url` for `orders/db_url`), or undefined. */
  get<T = unknown>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  /** Every parsed value by relative key, in key order; a new object each call (values are frozen). */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Stops following the prefix (waiting for the last cache write) and completes `changes$`. */
  onApplicationShutdown(): Promise<void> {
    this.closing ??= (async () => {
      this.stopListening();
      await this.live.close();
      this.changes.complete();
    })();
    return this.closing;
  }

  /** The key relative to the prefix, or undefined for a folder key. */
  private relativeKey(fullKey: string): string | undefined {
    return fullKey.endsWith('/') ? undefined : fullKey.slice(this.live.prefix.length);
  }

  private apply(change: ConfigChange): void {
    const values = new Map(this.values);
    const emitted: SwitchboardConfigChange[] = [];
    for (const fullKey of change.changedKeys) {
      const key = this.relativeKey(fullKey);
      if (key === undefined) continue;
      const previous = values.get(key);
      const entry = this.live.get(fullKey);
      if (entry === undefined) {
        values.delete(key);
        emitted.push({ key, value: undefined, previous, index: change.index });
        continue;
      }
      try {
        const value = parseConfigValue(key, entry.value, this.format);
        values.set(key, value);
        emitted.push({ key, value, previous, index: change.index });
      } catch (error) {
        // parseConfigValue throws nothing else; a throw here would reach the SDK's watch loop.
        const refused = error as ConfigValueError;
        this.logger.error(`Switchboard config ${JSON.stringify(this.live.prefix)}: ${refused.message} (index ${change.index}); keeping the last good value`);
        emitted.push({ key, value: previous, previous, index: change.index, error: refused });
      }
    }
    this.values = values;
    for (const emission of emitted) this.changes.next(emission);
  }
}

/** The one boot error: what was tried (server, cache) and why each failed. */
function bootFailure(options: SwitchboardConfigOptions, bootTimeoutMs: number, error: unknown): string {
  const what = `Switchboard config ${JSON.stringify(options.prefix)} unavailable`;
  // The SDK answers UNAVAILABLE only when the server was unreachable and no cache could be served.
  if (!(error instanceof SwitchboardError) || error.code !== 'UNAVAILABLE') return `${what}: ${(error as Error).message}`;
  const cache = options.cacheFile === undefined ? 'no cacheFile is configured' : `no cache at ${options.cacheFile}`;
  return `${what}: server ${options.address ?? DEFAULT_ADDRESS} unreachable (${unreachableReason(error.cause, bootTimeoutMs)}) and ${cache}`;
}

/** The innermost cause (`connect ECONNREFUSED …`, an HTTP 503), or the boot timeout. */
function unreachableReason(cause: unknown, bootTimeoutMs: number): string {
  // Duck-typed, not instanceof: fetch's errors may come from another realm (as under jest's VM).
  while (isErrorLike(cause) && isErrorLike(cause.cause)) cause = cause.cause;
  if (!isErrorLike(cause)) return String(cause);
  if (cause.name === 'TimeoutError') return `no answer within ${bootTimeoutMs} ms`;
  return cause instanceof SwitchboardError && cause.status !== undefined ? `HTTP ${cause.status}: ${cause.message}` : cause.message;
}

function isErrorLike(value: unknown): value is { name: string; message: string; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';
}
