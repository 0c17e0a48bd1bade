import { abortedError, anySignal } from './abort.js';
import { fromResponse, SwitchboardError } from './errors.js';

export interface HttpOptions {
  /** Base URL of a Switchboard (or Consul) node. */
  readonly address: string;
  /** Sent as `X-Consul-Token` when set. */
  readonly token?: string | undefined;
  /** Timeout of a non-blocking request. */
  readonly timeoutMs: number;
}

export type Query = Record<string, string | number | bigint | boolean | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: string | Buffer;
  readonly signal?: AbortSignal | undefined;
  /** Overrides the transport's timeout (blocking queries wait longer). */
  readonly timeoutMs?: number;
  /** Statuses answered as a Reply instead of an error (e.g. 404 for a missing key). */
  readonly accept?: readonly number[];
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  /** `X-Consul-Index`, when the endpoint sends it. */
  readonly index: number | undefined;
}

/**
 * HTTP on global fetch. Every request is bounded by a timeout and cancelled by the caller's
 * signal or by closing the client; failures come back as SwitchboardErrors with stable codes.
 */
export class HttpTransport {
  private readonly base: string;

  constructor(
    private readonly options: HttpOptions,
    /** Aborts every request in flight when the client closes. */
    private readonly closed: AbortSignal,
  ) {
    this.base = options.address.replace(/\/+$/, '');
  }

  get address(): string {
    return this.base;
  }

  async request(method: 'GET' | 'PUT' | 'DELETE', path: string, options: RequestOptions = {}): Promise<Reply> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.timeoutMs);
    const signal = anySignal(options.signal, this.closed, timeout);
    const headers: Record<string, string> = {};
    if (this.options.token !== undefined) headers['X-Consul-Token'] = this.options.token;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}${queryString(options.query)}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal);
      if (this.closed.aborted) throw new SwitchboardError('ABORTED', 'the client was closed', { cause: error });
      if (timeout.aborted) throw new SwitchboardError('TIMEOUT', `${method} ${path}: no answer within the timeout`, { cause: error });
      throw new SwitchboardError('UNAVAILABLE', `${method} ${this.base}${path}: ${describe(error)}`, { cause: error });
    }
    if (!response.ok && !(options.accept ?? []).includes(response.status)) throw fromResponse(response.status, text);
    const index = response.headers.get('x-consul-index');
    return { status: response.status, text, index: index === null ? undefined : Number(index) };
  }
}

/** Each key segment percent-encoded, `/` kept: the server decodes the path once. */
export function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Flags (`true`) are sent by presence, as Consul reads them; undefined and false are left out. */
function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    parts.push(value === true ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
