import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32InSteps } from './crc-in-steps.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { SnapshotStatus, StoredSnapshot } from './replicated-log.js';
import { scriptErrorCode } from './redis-scripts.js';

/**
 * Snapshots in Redis: the data in 1 MiB chunk keys (one value of hundreds of MB would stall
 * Redis and every client while it is copied), named by a snapshot id that is never reused, plus
 * a small meta key `{seq, epoch, chunkKeys, bytes, crc}` switched by one script. So:
 * - readers see the old snapshot or the new one, never half of each; a reader that finds a
 *   chunk gone raced a switch and simply reads the new meta (`'raced'`);
 * - chunks are written with a TTL and made permanent only by the switch, which gives the chunks
 *   it replaces a TTL again; so a writer that dies midway leaves nothing behind for long;
 * - work that holds Redis in proportion to the data (deleting ~100 MB of replaced chunks,
 *   trimming hundreds of thousands of entries) is done after the switch in small steps, each a
 *   command queued like any other, so every node's appends wait for one step at most;
 * - one node writes at a time (`snap-lock`, SET NX PX), which only saves work: correctness comes
 *   from the switch refusing to go backwards or to replace a meta it did not read.
 */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/**
 * Chunk writes in flight at once. The chunks share the connection appends go out on: written all
 * at once, a large snapshot would queue its whole size (and ioredis's copy of it) ahead of every
 * append for the length of the transfer.
 */
const CHUNKS_IN_FLIGHT = 4;
const CHUNK_TTL_MS = 60 * 60 * 1000;
/**
 * The snapshot lock lives this long unless renewed, and the writer renews it with every step (a
 * group of chunks, a group of deletes, a trim step): a writer killed while storing a snapshot
 * keeps other nodes from storing theirs for at most this long (meanwhile the stream only grows).
 */
export const LOCK_TTL_MS = 10 * 1000;
/** Replaced chunks one DEL frees (measured under load on a 2-core VM: ~0.15 ms a DEL). */
const CHUNKS_PER_DELETE = 4;
/** How long a replaced snapshot's chunks outlive a writer that died before deleting them. */
const REPLACED_CHUNK_TTL_MS = 60 * 1000;
/** Entries a trim step removes at most (about): ~0.3 ms of Redis's time, measured as above. */
export const TRIM_STEP_ENTRIES = 2_000;

interface SnapshotMeta {
  readonly seq: number;
  readonly epoch: string;
  readonly chunkKeys: readonly string[];
  readonly bytes: number;
  readonly crc: number;
}

export interface SnapshotWrite {
  readonly seq: number;
  readonly data: Buffer;
  readonly epoch: string;
  readonly retainedEntries: number;
  /** Entries a trim step removes at most (about). */
  readonly trimStepEntries: number;
  /** Identifies this node's hold on the lock (a node name alone could be reused). */
  readonly lockValue: string;
  readonly timeoutMs: number;
}

export type SnapshotWriteResult =
  /** `trimError`: why trimming stopped early (the snapshot is stored; the next one trims the rest). */
  | { readonly outcome: 'stored'; readonly trimmed: number; readonly trimError?: string }
  | { readonly outcome: 'locked' | 'stale' | 'changed' };

export async function writeSnapshot(conn: RedisConnection, keys: RedisKeys, write: SnapshotWrite): Promise<SnapshotWriteResult> {
  const { client } = conn;
  const call = <T>(command: Promise<T>): Promise<T> => conn.within(command, Date.now() + write.timeoutMs);
  const locked = await call(client.set(keys.snapshotLock, write.lockValue, 'PX', LOCK_TTL_MS, 'NX'));
  if (locked !== 'OK') return { outcome: 'locked' };
  // Every step renews the lock, sent alongside the step's own commands so it costs no round trip
  // of its own; `held` says whether the lock was still this writer's.
  const step = async <T>(commands: Promise<T>): Promise<{ held: boolean; result: T }> => {
    const [renewed, result] = await Promise.all([call(client.sbRenewLock(keys.snapshotLock, write.lockValue, LOCK_TTL_MS)), commands]);
    return { held: renewed === 1, result };
  };
  let unclaimed: string[] = [];
  try {
    const [current, lastSeq] = await call(client.mget(keys.snapshot, keys.seq));
    if (write.seq > Number(lastSeq ?? 0)) {
      throw new RangeError(`cannot snapshot at seq ${write.seq}: the log ends at seq ${lastSeq ?? 0}`);
    }
    const previous = current === null || current === undefined ? undefined : parseMeta(current);
    if (previous !== undefined && previous.seq >= write.seq) return { outcome: 'stale' };

    const id = `${write.seq}.${randomBytes(6).toString('hex')}`;
    const chunks = chunk(write.data);
    unclaimed = chunks.map((_, i) => keys.snapshotChunk(id, i));
    for (let first = 0; first < chunks.length; first += CHUNKS_IN_FLIGHT) {
      const group = chunks.slice(first, first + CHUNKS_IN_FLIGHT);
      const { held } = await step(Promise.all(group.map((bytes, i) => call(client.set(unclaimed[first + i] as string, bytes, 'PX', CHUNK_TTL_MS)))));
      // The lock expired (Redis stalled for its whole TTL) and may be another node's now: leave
      // the storing to that node rather than both doing it.
      if (!held) return { outcome: 'locked' };
    }
    const crc = await crc32InSteps(write.data);
    const meta: SnapshotMeta = { seq: write.seq, epoch: write.epoch, chunkKeys: unclaimed, bytes: write.data.length, crc };
    const old = previous?.chunkKeys ?? [];
    const reply = await call(
      client
        .sbSwitchSnapshot(
          4 + old.length + unclaimed.length,
          ...[keys.snapshot, keys.epoch, keys.seq, keys.log, ...old, ...unclaimed],
          ...[current ?? '', JSON.stringify(meta), write.epoch, write.seq, write.retainedEntries, old.length, REPLACED_CHUNK_TTL_MS],
        )
        .catch((error: unknown) => {
          if (scriptErrorCode(error) === 'SBRANGE') throw new RangeError((error as Error).message.replace(/^SBRANGE /, ''));
          throw error;
        }),
    );
    const [outcome, firstKept = 0] = reply;
    if (outcome !== 'ok') return { outcome: outcome === 'stale' ? 'stale' : 'changed' };
    unclaimed = [];
    for (let first = 0; first < old.length; first += CHUNKS_PER_DELETE) {
      // Best effort: what is left expires.
      await step(call(client.del(...old.slice(first, first + CHUNKS_PER_DELETE)))).catch(() => undefined);
    }
    if (firstKept <= 1) return { outcome: 'stored', trimmed: 0 };
    const trim = await trimInSteps(async () => (await step(call(client.sbTrimLog(keys.epoch, keys.log, write.epoch, firstKept, write.trimStepEntries)))).result);
    return { outcome: 'stored', ...trim };
  } finally {
    // Best effort: unclaimed chunks expire anyway, an unreleased lock times out.
    if (unclaimed.length > 0) await call(client.del(...unclaimed)).catch(() => undefined);
    await call(client.sbReleaseLock(keys.snapshotLock, write.lockValue)).catch(() => undefined);
  }
}

/**
 * Trims the log below the snapshot's first kept seq, one `step` (a TRIM_LOG call) at a time,
 * each queued like any other command, so appends wait for one step at most rather than for the
 * whole trim.
 */
async function trimInSteps(step: () => Promise<[trimmed: number, done: number]>): Promise<{ trimmed: number; trimError?: string }> {
  let trimmed = 0;
  try {
    for (;;) {
      const [count, done] = await step();
      trimmed += count;
      if (done === 1) return { trimmed };
    }
  } catch (error) {
    return { trimmed, trimError: (error as Error).message };
  }
}

/** The stored snapshot's seq (0 if none of this epoch) and whether some node holds the write lock. */
export async function snapshotStatus(conn: RedisConnection, keys: RedisKeys, epoch: string, timeoutMs: number): Promise<SnapshotStatus> {
  const [raw, lock] = await conn.within(conn.client.mget(keys.snapshot, keys.snapshotLock), Date.now() + timeoutMs);
  const meta = raw === null || raw === undefined ? undefined : parseMeta(raw);
  return { seq: meta?.epoch === epoch ? meta.seq : 0, inProgress: lock !== null && lock !== undefined };
}

/** The newest snapshot, undefined if there is none, or 'raced' if it was replaced mid-read. */
export async function readSnapshot(
  conn: RedisConnection,
  keys: RedisKeys,
  epoch: string,
  timeoutMs: number,
): Promise<StoredSnapshot | undefined | 'raced'> {
  const raw = await conn.within(conn.client.get(keys.snapshot), Date.now() + timeoutMs);
  if (raw === null) return undefined;
  const meta = parseMeta(raw);
  if (meta.epoch !== epoch) return 'raced';
  const chunks = meta.chunkKeys.length === 0 ? [] : await conn.within(conn.client.mgetBuffer(...meta.chunkKeys), Date.now() + timeoutMs);
  const present = chunks.filter((c): c is Buffer => c !== null);
  if (present.length !== meta.chunkKeys.length) return 'raced';
  const data = Buffer.concat(present);
  if (data.length !== meta.bytes || crc32(data) !== meta.crc) {
    throw new Error(`snapshot at seq ${meta.seq} is corrupt: ${data.length} bytes with CRC ${crc32(data)}, meta says ${meta.bytes} bytes with CRC ${meta.crc}`);
  }
  return { seq: meta.seq, data };
}

function parseMeta(raw: string): SnapshotMeta {
  const meta = JSON.parse(raw) as Partial<SnapshotMeta>;
  if (!Number.isSafeInteger(meta.seq) || typeof meta.epoch !== 'string' || !Array.isArray(meta.chunkKeys)) {
    throw new Error(`snapshot meta is not valid: ${raw.slice(0, 200)}`);
  }
  return meta as SnapshotMeta;
}

function chunk(data: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += SNAPSHOT_CHUNK_BYTES) {
    chunks.push(data.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES));
  }
  return chunks;
}
