import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { crc32InSteps } from './crc-in-steps.js';
import { writeFileAtomic } from './durable-fs.js';

/**
 * `snapshot-<seq, 20 digits>.snap` = 40-byte header + data. Header: magic "SBSN", u32 version,
 * u64 seq, u64 time, u64 data length, u32 CRC32(data), u32 CRC32(header bytes 0..35).
 *
 * `time` is the log clock when the snapshot was taken, so the clock stays monotonic across a
 * restart even when every entry it covers has been truncated away.
 */
const MAGIC = 'SBSN';
const VERSION = 1;
const HEADER_BYTES = 40;
const SNAPSHOT_NAME = /^snapshot-(\d{20})\.snap$/;

export interface SnapshotFile {
  readonly seq: number;
  readonly time: number;
  readonly data: Buffer;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(20, '0')}.snap`;
}

export function parseSnapshotFileName(name: string): number | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export async function writeSnapshotFile(dir: string, snapshot: SnapshotFile): Promise<void> {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(VERSION, 4);
  header.writeBigUInt64LE(BigInt(snapshot.seq), 8);
  header.writeBigUInt64LE(BigInt(snapshot.time), 16);
  header.writeBigUInt64LE(BigInt(snapshot.data.length), 24);
  header.writeUInt32LE(await crc32InSteps(snapshot.data), 32);
  header.writeUInt32LE(crc32(header.subarray(0, 36)), 36);
  await writeFileAtomic(dir, snapshotFileName(snapshot.seq), [header, snapshot.data]);
}

/** Parses a snapshot file; returns why it is unusable instead of throwing. */
export function decodeSnapshotFile(bytes: Buffer, expectedSeq: number): SnapshotFile | string {
  if (bytes.length < HEADER_BYTES) return `shorter than its ${HEADER_BYTES}-byte header`;
  if (bytes.toString('latin1', 0, 4) !== MAGIC) return 'bad magic';
  if (bytes.readUInt32LE(36) !== crc32(bytes.subarray(0, 36))) return 'header CRC mismatch';
  if (bytes.readUInt32LE(4) !== VERSION) return `unsupported version ${bytes.readUInt32LE(4)}`;
  const seq = Number(bytes.readBigUInt64LE(8));
  if (seq !== expectedSeq) return `header seq ${seq} does not match the file name`;
  const length = Number(bytes.readBigUInt64LE(24));
  if (bytes.length !== HEADER_BYTES + length) return `data length ${length} does not match the file size`;
  const data = bytes.subarray(HEADER_BYTES);
  if (crc32(data) !== bytes.readUInt32LE(32)) return 'data CRC mismatch';
  return { seq, time: Number(bytes.readBigUInt64LE(16)), data };
}

/**
 * The newest snapshot that verifies. A damaged newer one is reported and passed over: it was
 * fsynced before anything relied on it, so damage means the disk lied, and an older snapshot
 * plus the log may still be complete (recovery's seq checks decide).
 */
export async function loadNewestSnapshot(
  dir: string,
  fileNames: readonly string[],
  warn: (message: string) => void,
): Promise<SnapshotFile | undefined> {
  const candidates = snapshotSeqs(fileNames).sort((a, b) => b - a);
  for (const seq of candidates) {
    const path = join(dir, snapshotFileName(seq));
    const decoded = decodeSnapshotFile(await readFile(path), seq);
    if (typeof decoded !== 'string') return decoded;
    warn(`ignoring unusable snapshot ${path}: ${decoded}`);
  }
  return undefined;
}

export async function removeSnapshotsBelow(dir: string, fileNames: readonly string[], seq: number): Promise<void> {
  for (const older of snapshotSeqs(fileNames).filter((s) => s < seq)) {
    await rm(join(dir, snapshotFileName(older)), { force: true });
  }
}

function snapshotSeqs(fileNames: readonly string[]): number[] {
  return fileNames.map(parseSnapshotFileName).filter((seq): seq is number => seq !== undefined);
}
