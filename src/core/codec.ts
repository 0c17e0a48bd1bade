import { crc32 } from 'node:zlib';
import type { LogEntry } from './commands.js';
import { keptCopy } from './kept-bytes.js';

/**
 * The byte form of log entries and snapshots, shared by every transport:
 *
 *   u32 BE  length of the JSON document
 *   JSON    the value, with each Buffer replaced by {"$r":[offset,length]} into the blob below and
 *           each bigint by {"$u":"<decimal>"} (uint64 flags must survive exactly)
 *   blob    every Buffer's bytes back to back
 *
 * Values travel as raw bytes, not base64: a snapshot carries every stored value and the history
 * ring, and copying bytes is an order of magnitude cheaper than encoding them into JSON. A value
 * referred to from several places is written once and decodes to one shared Buffer: `ref()` with
 * `dedupe` finds equal byte strings by content (not object identity, so the output depends only
 * on the value); snapshots mostly share values by key instead (snapshot.ts), which is cheaper.
 */
const LENGTH_BYTES = 4;

/**
 * Builds one encoded value, possibly from pieces: `json()` writes a part of the document as JSON
 * text (moving its Buffers to the blob), `finish()` frames the whole document's text with the
 * blob. Snapshots are encoded part by part so the event loop can breathe in between, and write
 * their hot record shapes with `ref()` and `uint64()` directly.
 *
 * The text is written directly rather than through JSON.stringify of a tagged copy: the copy was
 * most of the cost of encoding a log entry or a snapshot (and of the garbage collector's work).
 * The output is what JSON.stringify would give for the tagged value.
 */
export class JsonEncoder {
  private readonly blobs: Buffer[] = [];
  /** Snapshots share values widely; a log entry's few values are not worth a content lookup each. */
  private readonly byContent = new Map<number, { readonly buffer: Buffer; readonly ref: string }[]>();
  /** A cache in front of byContent: the same Buffer object needs no second content lookup. */
  private readonly byObject = new Map<Buffer, string>();
  private at = 0;

  constructor(private readonly dedupe: boolean) {}

  json(value: unknown): string {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value);
      case 'number':
        return Number.isFinite(value) ? String(value) : 'null';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return this.uint64(value);
      case 'object':
        if (value === null) return 'null';
        if (Buffer.isBuffer(value)) return this.ref(value);
        return Array.isArray(value) ? this.array(value) : this.object(value as Record<string, unknown>);
      default:
        throw new TypeError(`cannot encode a ${typeof value}`);
    }
  }

  /** A Buffer as a reference into the blob. */
  ref(buffer: Buffer): string {
    if (!this.dedupe) return this.append(buffer);
    let found = this.byObject.get(buffer);
    if (found !== undefined) return found;
    // Keyed by content, so equal bytes held by different objects are written once and the
    // output depends only on the value.
    const checksum = crc32(buffer);
    const candidates = this.byContent.get(checksum);
    found = candidates?.find((candidate) => candidate.buffer.equals(buffer))?.ref;
    if (found === undefined) {
      found = this.append(buffer);
      if (candidates === undefined) this.byContent.set(checksum, [{ buffer, ref: found }]);
      else candidates.push({ buffer, ref: found });
    }
    this.byObject.set(buffer, found);
    return found;
  }

  /**
   * finish() for a document written into TextChunks, in steps: each copies a couple of MB into the
   * output, so framing a snapshot of hundreds of MB never holds the event loop for long.
   */
  *finishSteps(text: TextChunks): Generator<void, Buffer, void> {
    const textLength = text.byteLength;
    const out = Buffer.allocUnsafe(LENGTH_BYTES + textLength + this.at);
    out.writeUInt32BE(textLength, 0);
    let at = LENGTH_BYTES;
    let work = 0;
    for (const pieces of [text.buffers(), this.blobs]) {
      for (const piece of pieces) {
        at += piece.copy(out, at);
        // A copy's fixed cost outweighs a small value's bytes: count both.
        work += piece.length + COPY_OVERHEAD_BYTES;
        if (work >= COPY_STEP_BYTES) {
          work = 0;
          yield;
        }
      }
    }
    return out;
  }

  uint64(value: bigint): string {
    return `{"$u":"${value.toString()}"}`;
  }

  /**
   * Frames the document's text with the blob, in one allocation. `headroom` bytes are left
   * uninitialized in front for a caller's own framing (a log record's length and checksum).
   */
  finish(json: string, headroom = 0): Buffer {
    const textLength = Buffer.byteLength(json, 'utf8');
    const out = Buffer.allocUnsafe(headroom + LENGTH_BYTES + textLength + this.at);
    out.writeUInt32BE(textLength, headroom);
    let at = headroom + LENGTH_BYTES;
    at += out.write(json, at, 'utf8');
    for (const blob of this.blobs) at += blob.copy(out, at);
    return out;
  }

  private array(items: readonly unknown[]): string {
    let out = '[';
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i > 0) out += ',';
      out += item === undefined ? 'null' : this.json(item);
    }
    return `${out}]`;
  }

  private object(fields: Record<string, unknown>): string {
    let out = '';
    for (const field in fields) {
      const item = fields[field];
      if (item === undefined || !Object.hasOwn(fields, field)) continue;
      out += `${out === '' ? '{' : ','}${fieldName(field)}${this.json(item)}`;
    }
    return out === '' ? '{}' : `${out}}`;
  }

  /** A Buffer as a reference to its own copy in the blob: no lookup, whatever `dedupe` says. */
  append(buffer: Buffer): string {
    const ref = `{"$r":[${this.at},${buffer.length}]}`;
    this.blobs.push(buffer);
    this.at += buffer.length;
    return ref;
  }
}

/**
 * Text written into fixed-size buffers as it is produced, for documents too large to build as
 * one string: a snapshot's tens of MB of JSON, joined, flattened and then encoded in one go,
 * held the event loop for most of a second. The bytes are exactly Buffer.from(whole text).
 */
export class TextChunks {
  private readonly sealed: Buffer[] = [];
  private sealedBytes = 0;
  private current = Buffer.allocUnsafe(0);
  private at = 0;

  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3;
    if (this.current.length - this.at < most) {
      this.seal();
      if (most > TEXT_CHUNK_BYTES) {
        this.push(Buffer.from(text, 'utf8'));
        return;
      }
      this.current = Buffer.allocUnsafe(TEXT_CHUNK_BYTES);
    }
    this.at += this.current.write(text, this.at, 'utf8');
  }

  get byteLength(): number {
    return this.sealedBytes + this.at;
  }

  /** The text written so far, in order. */
  buffers(): readonly Buffer[] {
    this.seal();
    return this.sealed;
  }

  private seal(): void {
    if (this.at > 0) this.push(this.current.subarray(0, this.at));
    this.current = this.current.subarray(this.current.length);
    this.at = 0;
  }

  private push(buffer: Buffer): void {
    this.sealed.push(buffer);
    this.sealedBytes += buffer.length;
  }
}

const TEXT_CHUNK_BYTES = 1024 * 1024;
/** Bytes copied between two yields of finishSteps: about a millisecond. */
const COPY_STEP_BYTES = 2 * 1024 * 1024;
const COPY_OVERHEAD_BYTES = 512;

/**
 * `"name":` for an object field. Field names come from the code's own record types (user data
 * travels in values, never in names), so the cache stays as small as that vocabulary; it is
 * capped all the same.
 */
const fieldNames = new Map<string, string>();
const FIELD_NAME_CACHE_LIMIT = 1024;

function fieldName(field: string): string {
  let text = fieldNames.get(field);
  if (text === undefined) {
    text = `${JSON.stringify(field)}:`;
    if (fieldNames.size < FIELD_NAME_CACHE_LIMIT) fieldNames.set(field, text);
  }
  return text;
}

export function encodeJson(value: unknown, dedupe = true, headroom = 0): Buffer {
  const encoder = new JsonEncoder(dedupe);
  return encoder.finish(encoder.json(value), headroom);
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
        buffer = keptCopy(data.subarray(start, start + length));
        decoded.set(identity, buffer);
      }
      return buffer;
    }
    return value;
  }) as T;
}

/** The entry's bytes, after `headroom` uninitialized bytes for the caller's framing. */
export function encodeEntry(entry: LogEntry, headroom = 0): Buffer {
  return encodeJson(entry, false, headroom);
}

export function decodeEntry(bytes: Uint8Array): LogEntry {
  return decodeJson<LogEntry>(bytes);
}
