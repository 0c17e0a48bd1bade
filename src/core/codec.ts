import type { LogEntry } from './commands.js';

/**
 * The byte form of log entries and snapshots, shared by every transport:
 *
 *   u32 BE  length of the JSON document
 *   JSON    the value, with each Buffer replaced by {"$r":[offset,length]} into the blob below and
 *           each bigint by {"$u":"<decimal>"} (uint64 flags must survive exactly)
 *   blob    every Buffer's bytes back to back
 *
 * Values travel as raw bytes, not base64: a snapshot carries every stored value and the history
 * ring, and copying bytes is an order of magnitude cheaper than encoding them into JSON. Equal
 * byte strings are written once (an entry's value is also its newest version and its history
 * event's value) and decode to one shared Buffer. Dedup is by content, not object identity, so
 * the output depends only on the value: equal states give equal bytes.
 */
const LENGTH_BYTES = 4;

type BlobReference = { $r: [number, number] };

interface BlobWriter {
  /** Snapshots share values widely; a log entry's few values are not worth a content key each. */
  readonly dedupe: boolean;
  readonly blobs: Buffer[];
  readonly byContent: Map<string, BlobReference>;
  /** A cache in front of byContent: the same Buffer object needs no second content key. */
  readonly byObject: Map<Buffer, BlobReference>;
  at: number;
}

function reference(buffer: Buffer, writer: BlobWriter): BlobReference {
  if (!writer.dedupe) return append(buffer, writer);
  let found = writer.byObject.get(buffer);
  if (found !== undefined) return found;
  const content = buffer.toString('latin1');
  found = writer.byContent.get(content);
  if (found === undefined) {
    found = append(buffer, writer);
    writer.byContent.set(content, found);
  }
  writer.byObject.set(buffer, found);
  return found;
}

function append(buffer: Buffer, writer: BlobWriter): BlobReference {
  const found: BlobReference = { $r: [writer.at, buffer.length] };
  writer.blobs.push(buffer);
  writer.at += buffer.length;
  return found;
}

function tag(value: unknown, writer: BlobWriter): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? { $u: value.toString() } : value;
  }
  if (Buffer.isBuffer(value)) return reference(value, writer);
  if (Array.isArray(value)) return value.map((item) => tag(item, writer));
  const out: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) {
    if (item !== undefined) out[field] = tag(item, writer);
  }
  return out;
}

export function encodeJson(value: unknown, dedupe = true): Buffer {
  const writer: BlobWriter = { dedupe, blobs: [], byContent: new Map(), byObject: new Map(), at: 0 };
  const blobs = writer.blobs;
  const json = Buffer.from(JSON.stringify(tag(value, writer)), 'utf8');
  const length = Buffer.allocUnsafe(LENGTH_BYTES);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, ...blobs]);
}

export function decodeJson<T>(bytes: Uint8Array): T {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < LENGTH_BYTES) throw new Error('encoded value is shorter than its header');
  const jsonLength = data.readUInt32BE(0);
  const blobStart = LENGTH_BYTES + jsonLength;
  if (blobStart > data.length) throw new Error('encoded value is shorter than its JSON length');
  const json = data.toString('utf8', LENGTH_BYTES, blobStart);
  const decoded = new Map<string, Buffer>();
  return JSON.parse(json, (_field, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const tagged = value as { $r?: unknown; $u?: unknown };
    if (typeof tagged.$u === 'string') return BigInt(tagged.$u);
    if (Array.isArray(tagged.$r)) {
      const [offset, length] = tagged.$r as [number, number];
      const start = blobStart + offset;
      if (start + length > data.length) throw new Error('encoded value refers past its end');
      // An empty value shares its offset with the next blob: the length is part of the identity.
      const identity = `${offset}:${length}`;
      let buffer = decoded.get(identity);
      if (buffer === undefined) {
        // A copy, so a small value does not pin the whole record or snapshot in memory.
        buffer = Buffer.from(data.subarray(start, start + length));
        decoded.set(identity, buffer);
      }
      return buffer;
    }
    return value;
  }) as T;
}

export function encodeEntry(entry: LogEntry): Buffer {
  return encodeJson(entry, false);
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  return decodeJson<LogEntry>(bytes);
}
