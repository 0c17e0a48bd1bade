import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEntry } from '../core/codec.js';
import type { LogEntry } from '../core/commands.js';
import { TMP_SUFFIX } from './durable-fs.js';
import { LogCorruptionError } from './log-corruption-error.js';
import { scanRecords } from './record-format.js';
import { parseSegmentFileName, segmentFileName } from './segment-file.js';
import { loadNewestSnapshot, parseSnapshotFileName, type SnapshotFile } from './snapshot-file.js';

/**
 * Rebuilds the log from a data directory after a clean stop or a crash at any point:
 * - tmp files (a snapshot or segment being created) are debris and removed;
 * - the newest verifiable snapshot wins; segments it fully covers are removed unread, which
 *   finishes a truncation a crash interrupted (a closed segment ends where the next begins);
 * - every other record must verify and seqs must run densely from snapshot.seq + 1 on;
 * - only damage at the very end of the last segment, with nothing intact behind it, is a torn
 *   write: it was never acknowledged, so it is cut off with a warning. Anything else throws.
 */
export interface SegmentRef {
  readonly firstSeq: number;
  readonly path: string;
}

export interface RecoveredLog {
  readonly snapshot?: SnapshotFile;
  /** Entries after the snapshot, dense, in seq order. */
  readonly entries: LogEntry[];
  readonly lastSeq: number;
  /** Highest log clock ever persisted; the next entry's time starts from here. */
  readonly lastTime: number;
  readonly segments: SegmentRef[];
  /** The last segment ends at lastSeq, so appends can continue in it. */
  readonly lastSegmentContinues: boolean;
}

export async function recoverLog(dir: string, warn: (message: string) => void): Promise<RecoveredLog> {
  let names = await readdir(dir);
  for (const debris of names.filter(isTmpDebris)) await rm(join(dir, debris), { force: true });
  names = names.filter((name) => !isTmpDebris(name));

  const snapshot = await loadNewestSnapshot(dir, names, warn);
  const covered = snapshot?.seq ?? 0;
  const firstSeqs = names.map(parseSegmentFileName).filter((seq): seq is number => seq !== undefined);
  firstSeqs.sort((a, b) => a - b);

  const segments: SegmentRef[] = [];
  for (const [i, firstSeq] of firstSeqs.entries()) {
    const path = join(dir, segmentFileName(firstSeq));
    const following = firstSeqs[i + 1];
    if (following !== undefined && following - 1 <= covered) await rm(path, { force: true });
    else segments.push({ firstSeq, path });
  }

  const first = segments[0];
  if (first !== undefined && first.firstSeq > covered + 1) {
    const why = snapshot === undefined ? 'there is no snapshot' : `the snapshot ends at seq ${covered}`;
    throw new LogCorruptionError(first.path, 0, `log starts at seq ${first.firstSeq} but ${why}`);
  }

  const entries: LogEntry[] = [];
  let next = first?.firstSeq ?? covered + 1;
  let lastTime = snapshot?.time ?? 0;
  for (const [i, segment] of segments.entries()) {
    if (segment.firstSeq !== next) {
      throw new LogCorruptionError(segment.path, 0, `segment starts at seq ${segment.firstSeq}, expected ${next}`);
    }
    const bytes = await readFile(segment.path);
    const { records, defect } = scanRecords(bytes);
    for (const record of records) {
      const entry = decodeRecord(segment.path, record.offset, record.payload);
      if (entry.seq !== next) {
        throw new LogCorruptionError(segment.path, record.offset, `expected seq ${next}, found ${entry.seq}`);
      }
      next++;
      lastTime = Math.max(lastTime, entry.time);
      if (entry.seq > covered) entries.push(entry);
    }
    if (defect === undefined) continue;
    if (i !== segments.length - 1 || !defect.torn) {
      throw new LogCorruptionError(segment.path, defect.offset, defect.reason);
    }
    warn(`dropping a torn record at the end of ${segment.path} at byte offset ${defect.offset} (${defect.reason})`);
    await truncateDurably(segment.path, defect.offset);
  }

  const logEnd = next - 1;
  return {
    ...(snapshot === undefined ? {} : { snapshot }),
    entries,
    lastSeq: Math.max(covered, logEnd),
    lastTime,
    segments,
    lastSegmentContinues: segments.length > 0 && logEnd >= covered,
  };
}

function decodeRecord(path: string, offset: number, payload: Buffer): LogEntry {
  let entry: LogEntry;
  try {
    entry = decodeEntry(payload);
  } catch (error) {
    throw new LogCorruptionError(path, offset, `undecodable entry (${(error as Error).message})`);
  }
  if (!Number.isSafeInteger(entry?.seq) || !Number.isFinite(entry?.time)) {
    throw new LogCorruptionError(path, offset, 'record is not a log entry (no numeric seq and time)');
  }
  return entry;
}

function isTmpDebris(name: string): boolean {
  if (!name.endsWith(TMP_SUFFIX)) return false;
  const base = name.slice(0, -TMP_SUFFIX.length);
  return parseSegmentFileName(base) !== undefined || parseSnapshotFileName(base) !== undefined;
}

async function truncateDurably(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
