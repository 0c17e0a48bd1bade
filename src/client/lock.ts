import { aborted, anySignal, sleep, throwIfAborted } from './abort.js';
import { isTransient, SwitchboardError } from './errors.js';
import type { CallOptions, KvApi } from './kv.js';
import { backoffDelay } from './retry-policy.js';
import type { Session, SessionsApi } from './sessions.js';

/**
 * Locks on Consul sessions (API.md §5.5), as Consul's `api/lock.go` does them: a session with a
 * TTL renewed at TTL/2, `?acquire` on the key, blocking reads between attempts instead of polling,
 * and a watch on the key while held. Sessions prefer liveness over safety: a holder that stalls
 * past its TTL loses the lock while it may still believe it holds it, so pass `lockIndex` (the
 * fencing token) along with every write made as holder and have the resource refuse older ones.
 */

export interface LockOptions extends CallOptions {
  /** Session TTL (Go duration, ≥ 10s). @default '15s' */
  readonly ttl?: string;
  /** How long the key stays un-acquirable after a holder's session ends (Go duration). @default '15s' */
  readonly lockDelay?: string;
  /** Written to the key on acquire and on release. @default empty */
  readonly value?: string | Buffer;
}

export interface Lock extends AsyncDisposable {
  readonly key: string;
  /** The key's LockIndex when acquired: grows with every new holder, a fencing token. */
  readonly lockIndex: number;
  readonly session: Session;
  /**
   * Aborts when the lock is no longer held: reason code LOCK_LOST (session gone, or the key
   * shows another session) or LOCK_RELEASED (release() was called).
   */
  readonly signal: AbortSignal;
  /** Releases the key, then destroys the session. Idempotent. */
  release(): Promise<void>;
}

interface LockApis {
  readonly kv: KvApi;
  readonly sessions: SessionsApi;
}

/** How long a holder's blocking read of its key may wait. */
const MONITOR_WAIT_MS = 60_000;
/** How long a waiter blocks on a held key before trying again. */
const WAITER_WAIT_MS = 15_000;

export async function acquireLock(apis: LockApis, key: string, options: LockOptions = {}): Promise<Lock> {
  const { kv } = apis;
  const value = options.value ?? '';
  const session = await apis.sessions.create({
    name: `switchboard lock ${key}`,
    ttl: options.ttl ?? '15s',
    lockDelay: options.lockDelay ?? '15s',
    behavior: 'release',
    signal: options.signal,
  });
  session.keepAlive();
  const signal = anySignal(options.signal, session.signal);
  try {
    let refusals = 0;
    for (;;) {
      throwIfAborted(options.signal);
      if (session.signal.aborted) throw session.signal.reason;
      if (await kv.put(key, value, { acquire: session.id, signal })) {
        const { value: entry, index } = await kv.getWithIndex(key, { consistent: true, signal });
        if (entry?.session === session.id) return new HeldLock(kv, session, entry.lockIndex, index, key, value);
        continue;
      }
      const { value: entry, index } = await kv.getWithIndex(key, { consistent: true, signal });
      if (entry?.session !== undefined) {
        refusals = 0;
        await kv.getWithIndex(key, { index, waitMs: WAITER_WAIT_MS, signal });
      } else {
        // Unlocked yet refused: the key is in a lock-delay window whose end we cannot see.
        await sleep(backoffDelay(refusals++, { initialDelayMs: 250, maxDelayMs: 5000 }), signal);
      }
    }
  } catch (error) {
    await session.destroy().catch(() => undefined);
    throw error;
  }
}

class HeldLock implements Lock {
  private readonly held = new AbortController();
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly kv: KvApi,
    readonly session: Session,
    readonly lockIndex: number,
    index: number,
    readonly key: string,
    private readonly value: string | Buffer,
  ) {
    const onSessionEnd = (): void => this.lose(`the lock session ended: ${String(session.signal.reason)}`, session.signal.reason);
    if (session.signal.aborted) onSessionEnd();
    else session.signal.addEventListener('abort', onSessionEnd, { once: true });
    void this.watchKey(index);
  }

  get signal(): AbortSignal {
    return this.held.signal;
  }

  release(): Promise<void> {
    this.releasing ??= this.releaseOnce();
    return this.releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  private async releaseOnce(): Promise<void> {
    const wasHeld = !this.held.signal.aborted;
    if (wasHeld) this.held.abort(new SwitchboardError('LOCK_RELEASED', `lock on ${JSON.stringify(this.key)} released`));
    try {
      // Releasing first hands the key over without the lock-delay that destroying alone would start.
      if (wasHeld) await this.kv.put(this.key, this.value, { release: this.session.id });
    } finally {
      await this.session.destroy();
    }
  }

  private lose(message: string, cause?: unknown): void {
    if (!this.held.signal.aborted) this.held.abort(new SwitchboardError('LOCK_LOST', message, { cause }));
  }

  /** Consistent blocking reads of the key: any answer showing another (or no) session is a loss. */
  private async watchKey(index: number): Promise<void> {
    const signal = this.held.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const read = await this.kv.getWithIndex(this.key, { index, waitMs: MONITOR_WAIT_MS, consistent: true, signal });
        if (read.value?.session !== this.session.id) {
          return this.lose(`${JSON.stringify(this.key)} is no longer held by session ${this.session.id}`);
        }
        index = read.index;
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (!isTransient(error)) return this.lose(`watching ${JSON.stringify(this.key)} failed: ${String(error)}`, error);
        await sleep(backoffDelay(failures++), signal).catch(() => undefined);
      }
    }
  }
}

/** The candidate's session ended while it tried (e.g. it could not renew through an outage). */
function sessionEnded(error: unknown): boolean {
  return error instanceof SwitchboardError && (error.code === 'SESSION_EXPIRED' || error.code === 'INVALID_SESSION');
}

export interface ElectOptions extends LockOptions {
  /** Called with the lock once this instance is primary; may be async. */
  readonly onElected: (lock: Lock) => void | Promise<void>;
  /** Called once primary no longer: the lock was lost, or `signal` aborted and it was released. */
  readonly onDemoted?: (reason: unknown) => void | Promise<void>;
}

/**
 * Primary/standby: acquire, be primary until the lock is lost, step down, try again — until
 * `signal` aborts; then the lock is released and the promise resolves. It rejects only when a
 * callback throws or the server refuses the lock for good (not for outages: they are retried).
 */
export async function elect(lock: (key: string, options: LockOptions) => Promise<Lock>, key: string, options: ElectOptions): Promise<void> {
  const stop = options.signal;
  let failures = 0;
  for (;;) {
    if (stop?.aborted) return;
    let held: Lock;
    try {
      held = await lock(key, options);
      failures = 0;
    } catch (error) {
      if (stop?.aborted) return;
      if (!isTransient(error) && !sessionEnded(error)) throw error;
      await sleep(backoffDelay(failures++), stop).catch(() => undefined);
      continue;
    }
    try {
      await options.onElected(held);
      await aborted(anySignal(held.signal, stop));
    } finally {
      await held.release().catch(() => undefined);
    }
    await options.onDemoted?.(held.signal.reason);
  }
}
