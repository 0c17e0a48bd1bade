import { compareKeys } from './byte-order.js';
import type { SessionCreateCommand } from './commands.js';

/**
 * A session as the state machine keeps it: what its create command said, plus the index of that
 * command and `deadline`, the log time (ms) after which the session is invalid (0: no TTL).
 * Immutable: a renew replaces the record.
 */
export interface Session extends Omit<SessionCreateCommand, 'type'> {
  readonly createIndex: number;
  readonly deadline: number;
}

/** Builds a session with a fixed field order, so snapshots of equal states are equal bytes. */
export function sessionRecord(fields: Session): Session {
  return {
    id: fields.id,
    name: fields.name,
    node: fields.node,
    ttl: fields.ttl,
    ttlMs: fields.ttlMs,
    expiryMs: fields.expiryMs,
    behavior: fields.behavior,
    lockDelayMs: fields.lockDelayMs,
    nodeChecks: fields.nodeChecks,
    serviceChecks: fields.serviceChecks,
    createIndex: fields.createIndex,
    deadline: fields.deadline,
  };
}

interface DeadlineMark {
  readonly deadline: number;
  readonly id: string;
}

function earlier(a: DeadlineMark, b: DeadlineMark): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.id < b.id);
}

/**
 * The sessions table. Expiry is found through a min-heap of (deadline, id) marks so that
 * checking "is anything overdue?" on every applied entry costs O(1).
 *
 * Invariants:
 * - Every live session with a deadline has a mark equal to its current deadline; a mark is live
 *   iff `byId.get(id)?.deadline === deadline`. Renewals leave stale marks behind, skipped when
 *   they surface and dropped when they outnumber the live ones, so the heap is never serialized.
 * - Overdue sessions come out in (deadline, id) order, the same on every replica.
 * - `tableIndex` is the seq of the last entry that created or removed a session; renewals and
 *   re-arming leave it alone (Consul's renew is not a write either), so a blocking read of the
 *   session list is not woken by every heartbeat.
 */
export class SessionTable {
  private readonly byId = new Map<string, Session>();
  private heap: DeadlineMark[] = [];
  private lastChange = 0;

  static restore(sessions: readonly Session[], tableIndex: number): SessionTable {
    const table = new SessionTable();
    for (const session of sessions) table.insert(sessionRecord(session));
    table.lastChange = tableIndex;
    return table;
  }

  get tableIndex(): number {
    return this.lastChange;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  /** Every session ordered by id (Consul lists by its ID index). */
  all(): Session[] {
    return [...this.byId.values()].sort((a, b) => compareKeys(a.id, b.id));
  }

  create(session: Session, seq: number): void {
    this.insert(session);
    this.lastChange = seq;
  }

  /** Restarts the session's expiry window at `time`; undefined when there is no such session. */
  renew(id: string, time: number): Session | undefined {
    const session = this.byId.get(id);
    if (session === undefined || session.expiryMs === 0) return session;
    const renewed = sessionRecord({ ...session, deadline: time + session.expiryMs });
    this.insert(renewed);
    return renewed;
  }

  remove(id: string, seq: number): void {
    if (this.byId.delete(id)) this.lastChange = seq;
  }

  /** Moves every deadline to `time` + its window: after an outage nobody could renew. */
  rearm(time: number): void {
    for (const session of [...this.byId.values()]) {
      if (session.expiryMs > 0) this.insert(sessionRecord({ ...session, deadline: time + session.expiryMs }));
    }
  }

  /** The earliest deadline of any live session, undefined when none has a TTL. */
  nextDeadline(): number | undefined {
    this.dropStaleTop();
    return this.heap[0]?.deadline;
  }

  /**
   * Sessions whose deadline `time` has passed, earliest first. Their marks leave the heap, so the
   * caller must remove every one it gets (apply invalidates them at once).
   */
  overdue(time: number): Session[] {
    const due: Session[] = [];
    for (;;) {
      this.dropStaleTop();
      const top = this.heap[0];
      if (top === undefined || top.deadline >= time) break;
      this.pop();
      due.push(this.byId.get(top.id) as Session);
    }
    return due;
  }

  private insert(session: Session): void {
    this.byId.set(session.id, session);
    if (session.deadline > 0) this.push({ deadline: session.deadline, id: session.id });
    if (this.heap.length > 2 * this.byId.size + 64) this.rebuildHeap();
  }

  private isLive(mark: DeadlineMark): boolean {
    return this.byId.get(mark.id)?.deadline === mark.deadline;
  }

  private dropStaleTop(): void {
    while (this.heap.length > 0 && !this.isLive(this.heap[0] as DeadlineMark)) this.pop();
  }

  private rebuildHeap(): void {
    const marks = this.heap.filter((mark) => this.isLive(mark));
    this.heap = [];
    for (const mark of marks) this.push(mark);
  }

  private push(mark: DeadlineMark): void {
    const heap = this.heap;
    heap.push(mark);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!earlier(mark, heap[parent] as DeadlineMark)) break;
      heap[at] = heap[parent] as DeadlineMark;
      at = parent;
    }
    heap[at] = mark;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && earlier(heap[right] as DeadlineMark, heap[left] as DeadlineMark) ? right : left;
      if (!earlier(heap[child] as DeadlineMark, last)) break;
      heap[at] = heap[child] as DeadlineMark;
      at = child;
    }
    heap[at] = last;
  }
}

/**
 * Lock-delay windows per key, in log time (API.md §5.5): after a session holding a key is
 * invalidated, nobody may acquire the key until the window ends. Unlike Consul (leader memory,
 * lost on restart) they are part of the replicated state, so every node refuses alike.
 */
export class LockDelays {
  private readonly until = new Map<string, number>();

  static restore(records: readonly (readonly [string, number])[]): LockDelays {
    const delays = new LockDelays();
    for (const [key, until] of records) delays.until.set(key, until);
    return delays;
  }

  hold(key: string, until: number): void {
    if (until > (this.until.get(key) ?? 0)) this.until.set(key, until);
  }

  blocks(key: string, time: number): boolean {
    return (this.until.get(key) ?? 0) > time;
  }

  /** Windows still open at `time`, by key: ended ones are left out of snapshots. */
  records(time: number): [string, number][] {
    return [...this.until.entries()].filter(([, until]) => until > time).sort(([a], [b]) => compareKeys(a, b));
  }
}
