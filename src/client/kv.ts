import { type HttpTransport, keyPath, type Query } from './http.js';
import { TxnFailedError } from './errors.js';
import { type KvEntry, kvEntry, parseExactJson, type WireKvEntry } from './wire.js';

export interface CallOptions {
  /** Cancels the call; it then rejects with code ABORTED. */
  readonly signal?: AbortSignal | undefined;
}

/** A blocking read (API.md §3): answers once the index passes `index`, or after `waitMs`. */
export interface ReadOptions extends CallOptions {
  /** Block until the result's index exceeds this one. */
  readonly index?: number;
  /** How long the server may hold a blocking read (server default 5 min, max 10 min). */
  readonly waitMs?: number;
  /** Linearizable read across nodes (`?consistent`). */
  readonly consistent?: boolean;
}

/** A read's result with the index to pass as `index` to the next blocking read. */
export interface Indexed<T> {
  readonly value: T;
  readonly index: number;
}

export interface PutOptions extends CallOptions {
  /** Stored with the value; a write without flags resets them to 0, as in Consul. */
  readonly flags?: bigint;
  /** Check-and-set: write only if the key's ModifyIndex is this (0: only if absent). */
  readonly cas?: number;
  /** Lock acquire with this session id (see Switchboard.lock for the whole protocol). */
  readonly acquire?: string;
  /** Lock release by this session id; the value written becomes the key's value. */
  readonly release?: string;
}

export interface DeleteOptions extends CallOptions {
  /** Delete every key under the prefix. */
  readonly recurse?: boolean;
  /** Delete only if the key's ModifyIndex is this (a missing key counts as deleted). */
  readonly cas?: number;
}

/** One operation of a transaction (API.md §8.3); values are bytes, indexes ModifyIndexes. */
export type TxnOp =
  | { readonly verb: 'set'; readonly key: string; readonly value: string | Buffer; readonly flags?: bigint }
  | { readonly verb: 'cas'; readonly key: string; readonly value: string | Buffer; readonly index: number; readonly flags?: bigint }
  | { readonly verb: 'lock' | 'unlock'; readonly key: string; readonly value: string | Buffer; readonly session: string; readonly flags?: bigint }
  | { readonly verb: 'get' | 'get-or-empty' | 'get-tree' | 'check-not-exists' | 'delete' | 'delete-tree'; readonly key: string }
  | { readonly verb: 'check-index' | 'delete-cas'; readonly key: string; readonly index: number }
  | { readonly verb: 'check-session'; readonly key: string; readonly session: string };

/** Blocking reads may be held for wait + wait/16 of jitter; allow that plus a margin. */
export function blockingTimeoutMs(waitMs: number): number {
  return Math.ceil(waitMs + waitMs / 16) + 5000;
}

/** Consul's KV endpoint, `/v1/kv/<key>`. Writes answer booleans, as Consul does. */
export class KvApi {
  constructor(private readonly http: HttpTransport) {}

  /** The entry, or undefined when the key does not exist. */
  async get(key: string, options: ReadOptions = {}): Promise<KvEntry | undefined> {
    return (await this.getWithIndex(key, options)).value;
  }

  async getWithIndex(key: string, options: ReadOptions = {}): Promise<Indexed<KvEntry | undefined>> {
    const reply = await this.read(key, {}, options);
    const entries = reply.status === 404 ? [] : (parseExactJson(reply.text) as WireKvEntry[]);
    return { value: entries[0] && kvEntry(entries[0]), index: reply.index ?? 1 };
  }

  /** Every entry under the prefix (a plain string prefix), in key order; [] when none. */
  async list(prefix: string, options: ReadOptions = {}): Promise<KvEntry[]> {
    return (await this.listWithIndex(prefix, options)).value;
  }

  async listWithIndex(prefix: string, options: ReadOptions = {}): Promise<Indexed<KvEntry[]>> {
    const reply = await this.read(prefix, { recurse: true }, options);
    const entries = reply.status === 404 ? [] : (parseExactJson(reply.text) as WireKvEntry[]);
    return { value: entries.map(kvEntry), index: reply.index ?? 1 };
  }

  /** Key names under the prefix; with a separator, keys past it fold into one `dir/` name. */
  async keys(prefix: string, options: ReadOptions & { readonly separator?: string } = {}): Promise<string[]> {
    const reply = await this.read(prefix, { keys: true, separator: options.separator }, options);
    return reply.status === 404 ? [] : (JSON.parse(reply.text) as string[]);
  }

  /** true when written; false when a `cas`, `acquire` or `release` condition did not hold. */
  async put(key: string, value: string | Buffer = '', options: PutOptions = {}): Promise<boolean> {
    const query = { flags: options.flags, cas: options.cas, acquire: options.acquire, release: options.release };
    const reply = await this.http.request('PUT', `/v1/kv/${keyPath(key)}`, { query, body: value, signal: options.signal });
    return reply.text.trim() === 'true';
  }

  /** Writes only if the key's ModifyIndex is `modifyIndex` (0: only if the key is absent). */
  cas(key: string, value: string | Buffer, modifyIndex: number, options: Omit<PutOptions, 'cas'> = {}): Promise<boolean> {
    return this.put(key, value, { ...options, cas: modifyIndex });
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const query = { recurse: options.recurse, cas: options.cas };
    const reply = await this.http.request('DELETE', `/v1/kv/${keyPath(key)}`, { query, signal: options.signal });
    return reply.text.trim() === 'true';
  }

  /**
   * Runs the operations atomically, at one index. Resolves with the entries the operations
   * returned (not aligned with `ops`: match them by key); rejects with TxnFailedError (code
   * TXN_FAILED, the failing operations in `errors`) when any check failed and nothing was written.
   */
  async txn(ops: readonly TxnOp[], options: CallOptions = {}): Promise<KvEntry[]> {
    const body = `[${ops.map(txnOpJson).join(',')}]`;
    const reply = await this.http.request('PUT', '/v1/txn', { body, signal: options.signal });
    const outcome = parseExactJson(reply.text) as { Results: { KV?: WireKvEntry }[] | null; Errors: unknown };
    if (outcome.Results === null) throw new TxnFailedError([]);
    return outcome.Results.flatMap((result) => (result.KV ? [kvEntry(result.KV)] : []));
  }

  private read(key: string, mode: Query, options: ReadOptions): ReturnType<HttpTransport['request']> {
    const blocking = options.index !== undefined && options.index > 0;
    const query = { ...mode, index: options.index, wait: options.waitMs === undefined ? undefined : `${options.waitMs}ms`, consistent: options.consistent };
    const timeoutMs = blocking ? blockingTimeoutMs(options.waitMs ?? 300_000) : undefined;
    return this.http.request('GET', `/v1/kv/${keyPath(key)}`, {
      query,
      signal: options.signal,
      accept: [404],
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }
}

/** One op as Consul's JSON; Flags written as an exact number token (JSON cannot hold a bigint). */
function txnOpJson(op: TxnOp): string {
  const fields: Record<string, unknown> = { Verb: op.verb, Key: op.key };
  if ('value' in op) fields.Value = op.value.length === 0 ? null : Buffer.from(op.value).toString('base64');
  if ('index' in op) fields.Index = op.index;
  if ('session' in op) fields.Session = op.session;
  const json = JSON.stringify(fields);
  const flags = 'flags' in op && op.flags !== undefined ? `,"Flags":${BigInt.asUintN(64, op.flags)}` : '';
  return `{"KV":${json.slice(0, -1)}${flags}}}`;
}
