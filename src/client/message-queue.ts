import { throwIfAborted } from './abort.js';

/**
 * Messages pushed by event handlers, taken one at a time by an async generator: the bridge from
 * socket.io's callbacks to a pull-based iterator.
 */
export class MessageQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** The oldest message, waiting for one; rejects with ABORTED when `signal` fires. */
  async take(signal: AbortSignal): Promise<T> {
    while (this.items.length === 0) {
      throwIfAborted(signal);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return this.items.shift()!;
  }
}
