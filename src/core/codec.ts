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

/**
 * Builds one encoded value, possibly from pieces: `json()` turns a part of the document into
 * its JSON text (moving its Buffers to the blob), `finish()` frames the whole document's text
 * with the blob. Snapshots are encoded part by part so the event loop can breathe in between.
 */
export class JsonEncoder {
  private readonly blobs: Buffer[] = [];
  /** Snapshots share values widely; a log entry's few values are not worth a content key each. */
  private readonly byContent = new Map<string, BlobReference>();
  /** A cache in front of byContent: the same Buffer object needs no second content key. */
  private readonly byObject = new Map<Buffer, BlobReference>();
  private at = 0;

  constructor(private readonly dedupe: boolean) {}

  json(value: unknown): string {
    return JSON.stringify(this.tag(value));
  }

  finish(json: string): Buffer {
    const text = Buffer.from(json, 'utf8');
    const length = Buffer.allocUnsafe(LENGTH_BYTES);
    length.writeUInt32BE(text.length);
    return Buffer.concat([length, text, ...this.blobs]);
  }

  private tag(value: unknown): unknown {
    if (value === null || typeof value !== 'object') {
      return typeof value === 'bigint' ? { $u: value.toString() } : value;
    }
    if (Buffer.isBuffer(value)) return this.reference(value);
    if (Array.isArray(value)) return value.map((item) => this.tag(item));
    const out: Record<string, unknown> = {};
    for (const [field, item] of Object.entries(value)) {
      if (item !== undefined) out[field] = this.tag(item);
    }
    return out;
  }

  private reference(buffer: Buffer): BlobReference {
    if (!this.dedupe) return this.append(buffer);
    let found = this.byObject.get(buffer);
    if (found !== undefined) return found;
    const content = buffer.toString('latin1');
    found = this.byContent.get(content);
    if (found === undefined) {
      found = this.append(buffer);
      this.byContent.set(content, found);
    }
    this.byObject.set(buffer, found);
    return found;
  }

  private append(buffer: Buffer): BlobReference {
    const found: BlobReference = { $r: [this.at, buffer.length] };
    this.blobs.push(buffer);
    this.at += buffer.length;
    return found;
  }
}

export function encodeJson(value: unknown, dedupe = true): Buffer {
  const encoder = new JsonEncoder(dedupe);
  return encoder.finish(encoder.json(value));
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
