import type { WatchHub, WatchTarget } from './watch-hub.js';

/** Consul's limits (API.md §3.1): default 5 min, at most 10 min, plus jitter below wait/16. */
export const DEFAULT_WAIT_MS = 5 * 60_000;
export const MAX_WAIT_MS = 10 * 60_000;
const JITTER_FRACTION = 16;

export interface BlockingQueryOptions<T> {
  /** The client's `?index`; 0 means "answer now". */
  readonly minIndex: number;
  /** The client's `?wait` in ms; undefined or 0 means the default. */
  readonly waitMs: number | undefined;
  readonly target: WatchTarget;
  /** Computes the answer and the index it reports; called again after every wake-up. */
  readonly run: () => T & { readonly index: number };
  /** Aborted when the client goes away: the waiter is released at once. */
  readonly signal: AbortSignal;
  /** Uniform in [0, 1); injected so tests can pin the jitter. */
  readonly random?: () => number;
}

export function blockingTimeoutMs(waitMs: number | undefined, random: () => number = Math.random): number {
  const wait = waitMs === undefined || waitMs <= 0 ? DEFAULT_WAIT_MS : Math.min(waitMs, MAX_WAIT_MS);
  return wait + Math.floor((random() * wait) / JITTER_FRACTION);
}

/**
 * The one blocking-query primitive. Contract:
 * - `run()` must report the index of exactly what it read; an index > minIndex means "changed".
 * - Returns at once when run() already reports an index > minIndex (callers decide whether
 *   index 0 blocks: KV reads don't, history reads with `wait` do).
 * - Otherwise waits for a change to the target (writes elsewhere never wake it), re-runs, and
 *   returns when the index moved past minIndex, or at the deadline with whatever run() gives
 *   (the same index: a timeout is not an error), or when the signal aborts.
 * - Spurious wake-ups are fine: the index is always recomputed.
 * - Once the hub is closed (shutdown) it returns at once with whatever run() gives.
 */
export async function blockingQuery<T>(hub: WatchHub, options: BlockingQueryOptions<T>): Promise<T & { readonly index: number }> {
  let answer = options.run();
  if (answer.index > options.minIndex || options.signal.aborted) return answer;
  const deadline = Date.now() + blockingTimeoutMs(options.waitMs, options.random);
  while (answer.index <= options.minIndex) {
    const woken = await waitForChange(hub, options.target, deadline - Date.now(), options.signal);
    answer = options.run();
    if (!woken || hub.isClosed) break;
  }
  return answer;
}

/** Resolves true on a change to the target, false on timeout or abort; always unregisters. */
function waitForChange(hub: WatchHub, target: WatchTarget, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (timeoutMs <= 0 || signal.aborted || hub.isClosed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (woken: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      unregister();
      resolve(woken);
    };
    const onAbort = (): void => finish(false);
    const unregister = hub.register(target, () => finish(true));
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
