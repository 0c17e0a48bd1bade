import type { TxnOutcome } from '../core/commands.js';
import type { ChangeEvent, KvEntry, KvVersion } from '../core/entry.js';
import type { Session } from '../core/sessions.js';

/**
 * Consul's JSON for KV entries, written by hand so uint64 Flags go out as exact number tokens
 * (JSON.stringify cannot print a bigint) and so the hot read path builds one string, no objects.
 * Field order follows Consul's DirEntry; an empty value is `null`.
 */
function valueJson(value: Buffer): string {
  return value.length === 0 ? 'null' : `"${value.toString('base64')}"`;
}

export function kvEntryJson(entry: KvEntry): string {
  const session = entry.session === undefined ? '' : `,"Session":${JSON.stringify(entry.session)}`;
  return (
    `{"LockIndex":${entry.lockIndex},"Key":${JSON.stringify(entry.key)},"Flags":${entry.flags},` +
    `"Value":${valueJson(entry.value)}${session},"CreateIndex":${entry.createIndex},"ModifyIndex":${entry.modifyIndex}}`
  );
}

export function kvEntriesJson(entries: readonly KvEntry[]): string {
  return `[${entries.map(kvEntryJson).join(',')}]`;
}

/** One retained version, as /v1/versions lists them. */
export function kvVersionJson(version: KvVersion): string {
  return `{"ModifyIndex":${version.modifyIndex},"Value":${valueJson(version.value)},"Flags":${version.flags}}`;
}

/** One history event: the entry after the change plus the value and index it replaced. */
export function changeEventJson(event: ChangeEvent): string {
  const { entry, prev } = event;
  return (
    `{"Type":"${event.type}","Key":${JSON.stringify(event.key)},"Value":${valueJson(entry.value)},` +
    `"Flags":${entry.flags},"CreateIndex":${entry.createIndex},"ModifyIndex":${entry.modifyIndex},` +
    `"LockIndex":${entry.lockIndex},"Session":${entry.session === undefined ? 'null' : JSON.stringify(entry.session)},` +
    `"PrevValue":${prev ? valueJson(prev.value) : 'null'},"PrevModifyIndex":${prev ? prev.modifyIndex : 0}}`
  );
}

/** Consul's session object (API.md §6.1): LockDelay in nanoseconds, TTL as the client wrote it. */
export function sessionJson(session: Session): string {
  const serviceChecks =
    session.serviceChecks === null ? null : session.serviceChecks.map((check) => ({ ID: check.id, Namespace: check.namespace }));
  // `Checks` is the pre-1.7 field older clients still read; it is left out when empty, as Consul does.
  const legacyChecks = session.nodeChecks !== null && session.nodeChecks.length > 0 ? { Checks: session.nodeChecks } : {};
  return JSON.stringify({
    ID: session.id,
    Name: session.name,
    Node: session.node,
    LockDelay: Math.round(session.lockDelayMs * 1_000_000),
    Behavior: session.behavior,
    TTL: session.ttl,
    NodeChecks: session.nodeChecks,
    ServiceChecks: serviceChecks,
    ...legacyChecks,
    CreateIndex: session.createIndex,
    ModifyIndex: session.createIndex,
  });
}

export function sessionsJson(sessions: readonly Session[]): string {
  return `[${sessions.map(sessionJson).join(',')}]`;
}

/** PUT /v1/txn's body (API.md §8.4): Results on commit, Errors on rollback, the other null. */
export function txnOutcomeJson(outcome: TxnOutcome): string {
  if (!outcome.committed) {
    const errors = outcome.errors.map((error) => `{"OpIndex":${error.opIndex},"What":${JSON.stringify(error.what)}}`);
    return `{"Results":null,"Errors":[${errors.join(',')}]}`;
  }
  const results = outcome.results.map(({ entry, withValue }) => `{"KV":${kvEntryJson(withValue ? entry : { ...entry, value: EMPTY })}}`);
  return `{"Results":[${results.join(',')}],"Errors":null}`;
}

const EMPTY = Buffer.alloc(0);
