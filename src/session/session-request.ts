import { ConsulHttpError, badRequest } from '../common/consul-error.js';
import { JsonNumber, JsonObject, JsonSyntaxError, bindFields, isJsonArray, jsonKind, parseExactJson, type JsonValue } from '../common/exact-json.js';
import { goDurationError, parseGoDuration } from '../common/go-duration.js';
import type { SessionBehavior, SessionCreateCommand } from '../core/commands.js';

/** What a create request decides; the proposer adds the id and the expiry. */
export type SessionSettings = Omit<SessionCreateCommand, 'type' | 'id' | 'expiryMs'>;

/**
 * The one node check Switchboard has: there is no catalog, and the single node is alive for as
 * long as it answers, so serfHealth is always passing.
 */
export const SERF_HEALTH = 'serfHealth';

const DEFAULT_LOCK_DELAY_MS = 15_000;
/** Consul stores larger lock delays but never enforces more than 60 s (API.md §6.2, §6.6). */
const MAX_LOCK_DELAY_MS = 60_000;
/** Consul's lockDelayMinThreshold: a LockDelay number below it counts seconds, else nanoseconds. */
const LOCK_DELAY_SECONDS_BELOW = 1000;
const NS_PER_MS = 1_000_000;
/** session_ttl_min and SessionTTLMax; the error text below spells them the way Go prints them. */
const MIN_TTL_NS = 10_000_000_000;
const MAX_TTL_NS = 86_400_000_000_000;
const NO_TTL = { ttl: '', ttlMs: 0 } as const;

const SESSION_FIELDS = ['Name', 'Node', 'LockDelay', 'Behavior', 'TTL', 'Checks', 'NodeChecks', 'ServiceChecks'] as const;
const SERVICE_CHECK_FIELDS = ['ID', 'Namespace'] as const;
const NO_MEMBERS = new JsonObject([]);
const JSON_BLANK = /^[ \t\r\n]*$/;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeFailed(reason: string): ConsulHttpError {
  return badRequest(`Request decode failed: ${reason}`);
}

function wrongType(value: JsonValue, field: string, goType: string): ConsulHttpError {
  return decodeFailed(`json: cannot unmarshal ${jsonKind(value)} into Go struct field Session.${field} of type ${goType}`);
}

/** An empty or blank body means "all defaults": Consul decodes only when Content-Length > 0 (§1.6). */
function readSessionObject(body: Buffer): JsonObject {
  const text = body.toString('utf8');
  if (JSON_BLANK.test(text)) return NO_MEMBERS;
  let document: JsonValue;
  try {
    document = parseExactJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw decodeFailed(error.message);
    throw error;
  }
  // Go decodes `null` into a struct as a no-op, so it too means "all defaults".
  if (document === null) return NO_MEMBERS;
  if (document instanceof JsonObject) return document;
  throw decodeFailed(`json: cannot unmarshal ${jsonKind(document)} into Go value of type structs.Session`);
}

/** Go leaves a field at its default for `null`, as for an absent member. */
function optionalString(value: JsonValue | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(value, field, 'string');
  return value;
}

/** `null` decodes to Go's nil slice, which the checks fix-up treats exactly like `[]`. */
function optionalCheckIds(value: JsonValue | undefined, field: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (value === null) return [];
  if (!isJsonArray(value)) throw wrongType(value, field, '[]types.CheckID');
  return value.map((id) => {
    if (typeof id !== 'string') throw wrongType(id, field, 'types.CheckID');
    return id;
  });
}

/**
 * LockDelay is decoded through Consul's custom unmarshaller (§6.2): a Go duration string, or a
 * number Go reads as float64 and truncates to integer nanoseconds, where values below 1000 are
 * taken as seconds (`5` = 5 s, `5000` = 5 µs). Consul applies that threshold to strings too
 * ("500ns" = 500 s); that quirk is not reproduced. Negative delays disable the delay, as in Consul.
 */
function lockDelayMs(value: JsonValue | undefined): number {
  if (value === undefined || value === null) return DEFAULT_LOCK_DELAY_MS;
  let delayMs: number;
  if (typeof value === 'string') {
    const parsed = parseGoDuration(value);
    if (parsed === undefined) throw decodeFailed(goDurationError(value));
    delayMs = parsed;
  } else if (value instanceof JsonNumber) {
    const count = Math.trunc(Number(value.text));
    delayMs = count < LOCK_DELAY_SECONDS_BELOW ? count * 1000 : count / NS_PER_MS;
  } else {
    throw wrongType(value, 'LockDelay', 'time.Duration');
  }
  return Math.min(Math.max(delayMs, 0), MAX_LOCK_DELAY_MS);
}

function sessionBehavior(behavior: string): SessionBehavior {
  if (behavior === '' || behavior === 'release') return 'release';
  if (behavior === 'delete') return 'delete';
  // Consul answers 500 here; a client mistake is a 400 in Switchboard (brief, §6.2).
  throw badRequest(`Invalid Behavior setting '${behavior}'`);
}

/**
 * TTL errors keep Consul's 500 and exact wording: Patroni recognises a TTL out of range by the
 * `Invalid Session TTL` prefix (§1.4, §6.7). A zero TTL ("0", "0s") means none, stored as "".
 */
function sessionTtl(ttl: string): { ttl: string; ttlMs: number } {
  if (ttl === '') return NO_TTL;
  const ttlMs = parseGoDuration(ttl);
  if (ttlMs === undefined) throw new ConsulHttpError(500, `Session TTL '${ttl}' invalid: ${goDurationError(ttl)}`);
  const ttlNs = Math.round(ttlMs * NS_PER_MS);
  if (ttlNs === 0) return NO_TTL;
  if (ttlNs < MIN_TTL_NS || ttlNs > MAX_TTL_NS) {
    throw new ConsulHttpError(500, `Invalid Session TTL '${BigInt(ttlNs)}', must be between [10s=24h0m0s]`);
  }
  return { ttl, ttlMs };
}

/**
 * The node checks the session is bound to. Consul merges the legacy `Checks` list into
 * `NodeChecks` (fixupEmptySessionChecks, §6.1–6.2): both default to [serfHealth], and an explicitly
 * empty (or null) list in either field leaves the session with no node checks — that is how
 * `Checks: []` (Go CreateNoChecks, python-consul and node-consul `checks=[]`) asks for a session
 * without health checks. Every named check must exist, and serfHealth is the only one here.
 * The result is always an array: `[]` for "no node checks", never null.
 */
function sessionNodeChecks(legacyChecks: readonly string[] | undefined, nodeChecks: readonly string[] | undefined): string[] {
  for (const id of [...(legacyChecks ?? []), ...(nodeChecks ?? [])]) {
    if (id !== SERF_HEALTH) throw badRequest(`Missing check '${id}' registration`);
  }
  return legacyChecks?.length === 0 || nodeChecks?.length === 0 ? [] : [SERF_HEALTH];
}

function serviceCheckId(entry: JsonValue): string {
  if (entry === null) return '';
  if (!(entry instanceof JsonObject)) throw wrongType(entry, 'ServiceChecks', 'structs.ServiceCheck');
  const { fields } = bindFields(entry, SERVICE_CHECK_FIELDS);
  // Decoded only so a wrongly typed Namespace is the same 400 it is in Consul.
  optionalString(fields.Namespace, 'ServiceChecks.Namespace');
  return optionalString(fields.ID, 'ServiceChecks.ID') ?? '';
}

function serviceCheckIds(value: JsonValue | undefined): readonly string[] {
  if (value === undefined || value === null) return [];
  if (!isJsonArray(value)) throw wrongType(value, 'ServiceChecks', '[]structs.ServiceCheck');
  return value.map(serviceCheckId);
}

/**
 * PUT /v1/session/create (API.md §6.2). Field names match case-insensitively (python-consul sends
 * `ttl`, node-consul `TTL`); unknown fields are ignored, as Consul's session decoder does (§1.6).
 * Decode errors come first (400), then the semantic checks in Consul's order.
 */
export function parseSessionCreate(body: Buffer, defaultNode: string): SessionSettings {
  const { fields } = bindFields(readSessionObject(body), SESSION_FIELDS);
  const name = optionalString(fields.Name, 'Name') ?? '';
  const node = optionalString(fields.Node, 'Node') || defaultNode;
  const lockDelay = lockDelayMs(fields.LockDelay);
  const behaviorText = optionalString(fields.Behavior, 'Behavior') ?? '';
  const ttlText = optionalString(fields.TTL, 'TTL') ?? '';
  const legacyChecks = optionalCheckIds(fields.Checks, 'Checks');
  const nodeCheckIds = optionalCheckIds(fields.NodeChecks, 'NodeChecks');
  const serviceChecks = serviceCheckIds(fields.ServiceChecks);

  const behavior = sessionBehavior(behaviorText);
  const { ttl, ttlMs } = sessionTtl(ttlText);
  const nodeChecks = sessionNodeChecks(legacyChecks, nodeCheckIds);
  // Switchboard registers no services, so any service check is missing.
  const [firstServiceCheck] = serviceChecks;
  if (firstServiceCheck !== undefined) throw badRequest(`Missing service check '${firstServiceCheck}' registration`);
  return { name, node, ttl, ttlMs, behavior, lockDelayMs: lockDelay, nodeChecks, serviceChecks: null };
}

/** Consul's ids come from hashicorp/go-uuid: 8-4-4-4-12 hex, version bits unchecked (§6.1). */
export function isSessionId(text: string): boolean {
  return SESSION_ID.test(text);
}

/**
 * The `:id` of destroy, renew and info (§6.3–6.5). Consul answers a malformed id as an unknown
 * one; Switchboard says 400 instead. The id comes back lower-cased: Consul's UUID index compares
 * the hex bytes, so an upper-case id finds the same session.
 */
export function parseSessionId(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw badRequest('Missing session');
  if (!isSessionId(raw)) throw badRequest(`Invalid session id ${JSON.stringify(raw)}: must be a UUID`);
  return raw.toLowerCase();
}
