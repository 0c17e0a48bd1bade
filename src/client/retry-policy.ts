/**
 * The pure rules behind every retry loop of the SDK, with time and randomness passed in so they
 * can be tested exactly: capped exponential backoff with jitter (reconnects, renewals), Consul's
 * blocking-query index rules, and the token bucket that keeps a long-poll loop from hot-looping.
 */

export interface BackoffOptions {
  /** Delay before the first retry. @default 100 */
  readonly initialDelayMs?: number;
  /** No delay exceeds this. @default 10_000 */
  readonly maxDelayMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): `min(max, initial * 2^attempt)`, scaled by a
 * "equal jitter" factor in [0.5, 1) so clients that lost the same server do not return in step,
 * yet every delay keeps at least half its exponential growth.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.floor(ceiling * (0.5 + random() / 2));
}

/**
 * The index for the next blocking query (API.md §3.3): the index the server returned, unless it
 * went backwards — the server's state was replaced, so start over — and never below 1, since
 * `index=0` would not block at all.
 */
export function nextWaitIndex(previous: number, returned: number): number {
  const next = returned < previous ? 0 : returned;
  return Math.max(1, next);
}

/**
 * A token bucket (burst `capacity`, one token per `refillMs`): the long-poll loop takes a token
 * before each request, so a result that churns, or a server that answers at once, costs at most
 * one request per `refillMs` after the burst instead of a hot loop.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity = 2,
    private readonly refillMs = 500,
    now = 0,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes a token; returns how long to wait before using it (0 when one was available). */
  take(now: number): number {
    const refilled = this.tokens + (now - this.updatedAt) / this.refillMs;
    this.tokens = Math.min(this.capacity, refilled) - 1;
    this.updatedAt = now;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens * this.refillMs);
  }
}
