import { invalidKeyReason } from '../common/key-path.js';
import type { SubscribeRequest, UnsubscribeRequest } from '../protocol/watch-protocol.js';

/** What a client sent, checked: the request, or a one-line reason it was refused. */
export type Parsed<T> = { readonly ok: true; readonly request: T } | { readonly ok: false; readonly error: string };

const SUBSCRIBE_FIELDS = new Set(['key', 'recurse', 'fromIndex', 'prev']);

function isRecord(payload: unknown): payload is Record<string, unknown> {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload);
}

/**
 * Validates a `subscribe` payload from the wire, which may be anything a client can encode: the
 * key follows the KV endpoint's rules, `""` only with recurse (every key), flags are booleans and
 * fromIndex a non-negative safe integer. Unknown fields are refused so a typo is not ignored.
 */
export function parseSubscribe(payload: unknown): Parsed<SubscribeRequest> {
  if (!isRecord(payload)) return { ok: false, error: 'subscribe expects an object {key, recurse?, fromIndex?, prev?}' };
  const unknown = Object.keys(payload).find((field) => !SUBSCRIBE_FIELDS.has(field));
  if (unknown !== undefined) return { ok: false, error: `unknown field ${JSON.stringify(unknown)}` };
  const { key, recurse, fromIndex, prev } = payload;
  if (typeof key !== 'string') return { ok: false, error: 'key must be a string' };
  if (recurse !== undefined && typeof recurse !== 'boolean') return { ok: false, error: 'recurse must be a boolean' };
  if (prev !== undefined && typeof prev !== 'boolean') return { ok: false, error: 'prev must be a boolean' };
  if (fromIndex !== undefined && !(Number.isSafeInteger(fromIndex) && (fromIndex as number) >= 0)) {
    return { ok: false, error: 'fromIndex must be a non-negative integer' };
  }
  if (key === '' && recurse !== true) return { ok: false, error: 'Missing key name (use recurse with "" to watch every key)' };
  const keyProblem = invalidKeyReason(key);
  if (keyProblem !== undefined) return { ok: false, error: keyProblem };
  return { ok: true, request: { key, recurse, fromIndex: fromIndex as number | undefined, prev } };
}

export function parseUnsubscribe(payload: unknown): Parsed<UnsubscribeRequest> {
  if (!isRecord(payload) || !Number.isSafeInteger(payload.id)) return { ok: false, error: 'unsubscribe expects {id} with the id from the subscribe ack' };
  return { ok: true, request: { id: payload.id as number } };
}
