/**
 * The SDK's errors: one base class with a stable `code`, and two subclasses that carry data a
 * caller acts on (the compaction floor, the failed txn operations). Codes never change meaning;
 * every code is listed in README.md (a unit test keeps the two in step).
 */

/** What went wrong, stable across releases; match on this, not on messages. */
export const ERROR_CODES = {
  BAD_REQUEST: 'the server refused the request as malformed (HTTP 400)',
  PERMISSION_DENIED: 'the ACL token may not do this (HTTP 403)',
  NOT_FOUND: 'the key, version or session does not exist (HTTP 404 where it is an error)',
  TOO_LARGE: 'a value or transaction exceeds the server limits (HTTP 413)',
  INVALID_SESSION: 'the session named in an acquire/release does not exist',
  COMPACTED: 'the history from the requested index is no longer retained (HTTP 410 / socket `compacted`)',
  TXN_FAILED: 'a transaction was rolled back; `errors` lists the failing operations (HTTP 409)',
  UNAVAILABLE: 'the server could not be reached, or answered 429/502/503/504',
  TIMEOUT: 'the server did not answer within the request timeout',
  ABORTED: "the caller's AbortSignal fired, or the client was closed",
  SESSION_EXPIRED: 'a session renewal found the session gone (destroyed or expired)',
  LOCK_LOST: 'a held lock was lost: its session ended or another session holds the key',
  LOCK_RELEASED: 'the lock was released by its holder (the reason of a released lock signal)',
  WATCH_REFUSED: 'the server refused a watch subscription',
  SERVER_ERROR: 'any other server failure (HTTP 500 and unexpected statuses)',
} as const;

export type SwitchboardErrorCode = keyof typeof ERROR_CODES;

export interface SwitchboardErrorOptions extends ErrorOptions {
  /** The HTTP status the error was rebuilt from, when it came from one. */
  readonly status?: number;
}

export class SwitchboardError extends Error {
  readonly status: number | undefined;

  constructor(
    readonly code: SwitchboardErrorCode,
    message: string,
    options: SwitchboardErrorOptions = {},
  ) {
    super(message, options);
    this.name = new.target.name;
    this.status = options.status;
  }
}

/** History from the requested index was compacted away: re-list, then resume from the listing. */
export class CompactedError extends SwitchboardError {
  constructor(
    /** The oldest index that can still be resumed from. */
    readonly oldestIndex: number,
    options: SwitchboardErrorOptions = {},
  ) {
    super('COMPACTED', `history before index ${oldestIndex} is no longer retained: re-list and resume from the listing`, options);
  }
}

export interface TxnOpError {
  /** 0-based position of the failing operation in the request. */
  readonly opIndex: number;
  readonly what: string;
}

/** A transaction was rolled back: nothing was written. */
export class TxnFailedError extends SwitchboardError {
  constructor(
    readonly errors: readonly TxnOpError[],
    options: SwitchboardErrorOptions = {},
  ) {
    super('TXN_FAILED', `transaction rolled back: ${errors.map((e) => `#${e.opIndex} ${e.what}`).join('; ')}`, options);
  }
}

const UNAVAILABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Rebuilds the error a response stands for from its status and body. Error bodies are Consul's
 * plain text, except 409 (txn JSON) and 410 (`{"Error":"compacted","OldestIndex":N}`).
 */
export function fromResponse(status: number, body: string): SwitchboardError {
  const text = body.trim();
  const options = { status };
  const detail = (fallback: string): string => (text === '' ? fallback : text);
  if (status === 410) {
    const oldest = parseJsonField(text, 'OldestIndex');
    if (typeof oldest === 'number') return new CompactedError(oldest, options);
  }
  if (status === 409) {
    const errors = parseJsonField(text, 'Errors');
    if (Array.isArray(errors)) {
      return new TxnFailedError(
        errors.map((e: { OpIndex?: unknown; What?: unknown }) => ({ opIndex: Number(e.OpIndex), what: String(e.What) })),
        options,
      );
    }
  }
  // Consul's (and lock clients') contract: the body of an unknown session starts with this.
  if (text.startsWith('invalid session')) return new SwitchboardError('INVALID_SESSION', text, options);
  if (status === 400) return new SwitchboardError('BAD_REQUEST', detail('bad request'), options);
  if (status === 403) return new SwitchboardError('PERMISSION_DENIED', detail('permission denied'), options);
  if (status === 404) return new SwitchboardError('NOT_FOUND', detail('not found'), options);
  if (status === 413) return new SwitchboardError('TOO_LARGE', detail('request too large'), options);
  if (UNAVAILABLE_STATUSES.has(status)) return new SwitchboardError('UNAVAILABLE', detail(`server unavailable (HTTP ${status})`), options);
  return new SwitchboardError('SERVER_ERROR', `HTTP ${status}: ${detail('no body')}`, options);
}

function parseJsonField(text: string, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

/** Whether retrying later can help: the server was unreachable, overloaded or slow. */
export function isTransient(error: unknown): boolean {
  return error instanceof SwitchboardError && (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT');
}
