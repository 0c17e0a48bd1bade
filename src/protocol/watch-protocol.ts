/**
 * The socket.io watch protocol (namespace `/watch`), shared by the server and the SDK: plain
 * types and one pure function, no imports.
 *
 * Guarantees of a subscription: events arrive in index order (ordered), each at most once
 * (unique), with none missing between the first and the last delivered (reliable), all events
 * of one log entry in one `events` message (atomic), and re-subscribing with
 * `fromIndex = last seen index + 1` — on this node or another sharing the log — delivers exactly
 * what was missed (resumable). When that cannot be honoured the subscription ends with a reason
 * (`compacted`, `overflow`), never with a silent gap.
 */

export const WATCH_NAMESPACE = '/watch';

export interface SubscribeRequest {
  /** The key, or with `recurse` the prefix; `""` with `recurse` is every key. */
  readonly key: string;
  readonly recurse?: boolean;
  /**
   * Inclusive: events with index >= fromIndex are delivered, first replayed from history, then
   * live. Absent: only changes after the index in the ack.
   */
  readonly fromIndex?: number;
  /** Adds `PrevValue` and `PrevModifyIndex` to every event. */
  readonly prev?: boolean;
}

/** `index`: the node's applied index when the subscription was created. */
export type SubscribeAck = { readonly ok: true; readonly id: number; readonly index: number } | WatchError;

export interface UnsubscribeRequest {
  readonly id: number;
}

/** After an ok ack no further message names the subscription. */
export type UnsubscribeAck = { readonly ok: true } | WatchError;

export interface WatchError {
  readonly ok: false;
  /** One line saying what was wrong with the request. */
  readonly error: string;
}

/**
 * One change, the fields of a `/v1/history` event. `Flags` is the uint64 as a decimal string,
 * exact (socket.io serializes with JSON.stringify, which cannot write a bigint and would round a
 * number above 2^53). `Index` is the log entry's index, equal to `ModifyIndex`.
 */
export interface WatchEvent {
  readonly Index: number;
  readonly Type: 'put' | 'delete';
  readonly Key: string;
  /** base64, or null when empty (and for a delete). */
  readonly Value: string | null;
  readonly Flags: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly LockIndex: number;
  readonly Session: string | null;
  /** Only with `prev: true`: the value replaced (null if the key did not exist or was empty). */
  readonly PrevValue?: string | null;
  /** Only with `prev: true`: the replaced entry's ModifyIndex (0 if the key did not exist). */
  readonly PrevModifyIndex?: number;
}

/** Bytes a WatchEvent's fixed fields and punctuation take as JSON, rounded up. */
const FIXED_JSON_BYTES = 200;

/**
 * What an event costs in a buffer of undelivered events (the server's per subscription, the
 * SDK's per watch): close to its JSON size, since the strings dominate, without serializing it.
 */
export function watchEventBytes(event: WatchEvent): number {
  return FIXED_JSON_BYTES + event.Key.length + (event.Value?.length ?? 0) + (event.PrevValue?.length ?? 0) + (event.Session?.length ?? 0);
}

/** Every event one log entry made under the subscription, in the entry's order. */
export interface EventsMessage {
  readonly id: number;
  readonly index: number;
  readonly events: readonly WatchEvent[];
}

/**
 * Sent on a socket whose subscriptions are all live and had nothing to deliver for a while: each
 * of them has received everything up to `index`, so a client can resume from `index + 1`.
 */
export interface ProgressMessage {
  readonly index: number;
}

/**
 * The subscription ended: events from its position are no longer retained (or the node's state
 * was replaced). Re-list the keys, then subscribe from the listing's index + 1; `oldestIndex` is
 * the oldest index still resumable.
 */
export interface CompactedMessage {
  readonly id: number;
  readonly oldestIndex: number;
}

/**
 * The subscription ended because the client read too slowly: the server buffered its limit of
 * undelivered events. Everything up to `index` was delivered; subscribe again with
 * `fromIndex: index + 1` to continue without a gap.
 */
export interface OverflowMessage {
  readonly id: number;
  readonly index: number;
}

export interface WatchClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (reply: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack: (reply: UnsubscribeAck) => void) => void;
}

export interface WatchServerToClientEvents {
  events: (message: EventsMessage) => void;
  progress: (message: ProgressMessage) => void;
  compacted: (message: CompactedMessage) => void;
  overflow: (message: OverflowMessage) => void;
}
