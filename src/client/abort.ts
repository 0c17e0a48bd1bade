import { SwitchboardError } from './errors.js';

/** Signals that are undefined are left out; the result aborts when any of the others does. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((signal): signal is AbortSignal => signal !== undefined));
}

/** The error a call rejects with when `signal` fired: ABORTED, with the signal's reason as cause. */
export function abortedError(signal: AbortSignal): SwitchboardError {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchboardError && reason.code === 'ABORTED') return reason;
  return new SwitchboardError('ABORTED', 'the operation was aborted', { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/** Resolves after `ms`, or rejects with ABORTED as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves (never rejects) once `signal` has fired. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
