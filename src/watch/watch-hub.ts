import type { BeforeApplicationShutdown } from '@nestjs/common';
import type { ChangeEvent } from '../core/entry.js';

/** What a waiter watches: one exact key, every key starting with a prefix, or the sessions table. */
export type WatchTarget = { readonly key: string; readonly recurse: boolean } | { readonly table: 'sessions' };

export type WakeListener = () => void;

/**
 * Routes applied changes to the waiters registered on the keys they touch. Each changed key is
 * matched by walking its own prefixes ("", "a", "a/", "a/b" …) in a prefix map plus one exact-key
 * lookup, so an event costs O(key length) however many waiters exist. A waiter is woken at most
 * once per entry and must re-register to wait again (that keeps the sets small and removal O(1)).
 */
export class WatchHub implements BeforeApplicationShutdown {
  private readonly exact = new Map<string, Set<WakeListener>>();
  private readonly prefixes = new Map<string, Set<WakeListener>>();
  private readonly tables = new Map<string, Set<WakeListener>>();
  private waiting = 0;
  private closed = false;

  /** Once closed, blocking queries answer at once with what they have (see close()). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The server is shutting down: every blocking query answers now, as at its timeout, and new
   * ones do not wait. Otherwise a single long-poll (up to ~10 min) would hold the HTTP server
   * open, and with it the log: the node could not leave the cluster cleanly.
   */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  /** Nest calls this before closing the HTTP server, which waits for requests in flight. */
  beforeApplicationShutdown(): void {
    this.close();
  }

  /** Registers a one-shot listener; returns the function that unregisters it. */
  register(target: WatchTarget, listener: WakeListener): () => void {
    const [map, name] = 'table' in target ? [this.tables, target.table] : [target.recurse ? this.prefixes : this.exact, target.key];
    let set = map.get(name);
    if (!set) {
      set = new Set();
      map.set(name, set);
    }
    set.add(listener);
    this.waiting++;
    return () => this.remove(map, name, listener);
  }

  /** Waiters currently registered: a gauge for leak tests and /v1/agent/self. */
  get size(): number {
    return this.waiting;
  }

  /** Wakes every waiter whose target covers a key changed by one applied entry. */
  notify(events: readonly ChangeEvent[]): void {
    if (events.length === 0 || this.waiting === 0) return;
    const woken = new Set<WakeListener>();
    for (const event of events) {
      this.collect(this.exact, event.key, woken);
      if (this.prefixes.size === 0) continue;
      for (let end = 0; end <= event.key.length; end++) {
        this.collect(this.prefixes, event.key.slice(0, end), woken);
      }
    }
    for (const listener of woken) listener();
  }

  /** Wakes the waiters on the sessions table (an entry created or removed a session). */
  notifySessions(): void {
    const woken = new Set<WakeListener>();
    this.collect(this.tables, 'sessions', woken);
    for (const listener of woken) listener();
  }

  /** Wakes every waiter: after the state is replaced, any query's answer may have changed. */
  wakeAll(): void {
    const woken = new Set<WakeListener>();
    for (const map of [this.exact, this.prefixes, this.tables]) {
      for (const key of [...map.keys()]) this.collect(map, key, woken);
    }
    for (const listener of woken) listener();
  }

  private collect(map: Map<string, Set<WakeListener>>, key: string, into: Set<WakeListener>): void {
    const set = map.get(key);
    if (!set) return;
    for (const listener of set) into.add(listener);
    this.waiting -= set.size;
    map.delete(key);
  }

  private remove(map: Map<string, Set<WakeListener>>, key: string, listener: WakeListener): void {
    const set = map.get(key);
    if (!set?.delete(listener)) return;
    this.waiting--;
    if (set.size === 0) map.delete(key);
  }
}
