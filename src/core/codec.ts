import type { LogEntry } from './commands.js';

/**
 * The byte form of log entries and snapshots, shared by every transport: JSON in which Buffers
 * become `{"$b": base64}` and bigints `{"$u": decimal}`, so uint64 flags and binary values survive
 * exactly at any depth (txn commands nest them).
 */
function replacer(this: Record<string, unknown>, field: string, value: unknown): unknown {
  const raw = this[field];
  if (Buffer.isBuffer(raw)) return { $b: raw.toString('base64') };
  if (typeof value === 'bigint') return { $u: value.toString() };
  return value;
}

function reviver(_field: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const tagged = value as { $b?: unknown; $u?: unknown };
    if (typeof tagged.$b === 'string') return Buffer.from(tagged.$b, 'base64');
    if (typeof tagged.$u === 'string') return BigInt(tagged.$u);
  }
  return value;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, replacer), 'utf8');
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), reviver) as T;
}

export function encodeEntry(entry: LogEntry): Buffer {
  return encodeJson(entry);
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  return decodeJson<LogEntry>(bytes);
}
