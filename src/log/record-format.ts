import { crc32 } from 'node:zlib';
import { encodeEntry } from '../core/codec.js';
import type { LogEntry } from '../core/commands.js';

/**
 * One log record on disk: `u32 payload length | u32 CRC32(payload) | payload`, little endian,
 * payload = encodeEntry(entry). Records are appended back to back; there is no file header, so
 * an empty segment is a zero-byte file.
 *
 * Invariant used by recovery: a crash mid-write can only damage the bytes after the last
 * fsynced record, so damage is "torn" (forgivable) only when nothing valid follows it.
 */
export const RECORD_HEADER_BYTES = 8;

/** Far above any sane config entry; bounds what a damaged length field can make us trust. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export function encodeRecord(entry: LogEntry): Buffer {
  const record = encodeEntry(entry, RECORD_HEADER_BYTES);
  record.writeUInt32LE(record.length - RECORD_HEADER_BYTES, 0);
  record.writeUInt32LE(crc32(record.subarray(RECORD_HEADER_BYTES)), 4);
  return record;
}

export interface ScannedRecord {
  readonly offset: number;
  readonly payload: Buffer;
}

export interface RecordDefect {
  readonly offset: number;
  readonly reason: string;
  /** True when this looks like an interrupted final write: nothing valid follows it. */
  readonly torn: boolean;
}

export interface ScanResult {
  readonly records: ScannedRecord[];
  readonly defect?: RecordDefect;
}

/** Splits a segment's bytes into records, stopping at the first defect. */
export function scanRecords(bytes: Buffer): ScanResult {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const problem = checkRecordAt(bytes, offset);
    if (problem !== undefined) {
      return { records, defect: { offset, reason: problem, torn: !hasValidRecordAfter(bytes, offset) } };
    }
    const length = bytes.readUInt32LE(offset);
    const start = offset + RECORD_HEADER_BYTES;
    records.push({ offset, payload: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return { records };
}

/** Why the record at offset is unusable, or undefined when its length and CRC hold. */
function checkRecordAt(bytes: Buffer, offset: number): string | undefined {
  if (offset + RECORD_HEADER_BYTES > bytes.length) {
    return `record header runs past end of file (${bytes.length - offset} of ${RECORD_HEADER_BYTES} bytes)`;
  }
  const length = bytes.readUInt32LE(offset);
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) return `record length ${length} runs past end of file`;
  if (length === 0 || length > MAX_PAYLOAD_BYTES) return `impossible record length ${length}`;
  const expected = bytes.readUInt32LE(offset + 4);
  if (crc32(bytes.subarray(offset + RECORD_HEADER_BYTES, end)) !== expected) return 'CRC mismatch';
  return undefined;
}

/**
 * A damaged length field in the middle of a segment can look exactly like a torn tail (it
 * "runs past EOF"), so before forgiving a defect we look for any intact record behind it.
 * A false positive needs a length that fits and a matching CRC32: about 2^-32 per offset.
 */
function hasValidRecordAfter(bytes: Buffer, defectOffset: number): boolean {
  for (let offset = defectOffset + 1; offset + RECORD_HEADER_BYTES < bytes.length; offset++) {
    if (checkRecordAt(bytes, offset) === undefined) return true;
  }
  return false;
}
