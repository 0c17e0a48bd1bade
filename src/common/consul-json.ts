import type { ChangeEvent, KvEntry, KvVersion } from '../core/entry.js';

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
