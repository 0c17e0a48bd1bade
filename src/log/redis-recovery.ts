import { randomBytes } from 'node:crypto';
import type { LogEntry } from '../core/commands.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { LogRecovery } from './replicated-log.js';
import { readSnapshot } from './redis-snapshot.js';
import { scanStream } from './redis-stream.js';

/**
 * Loading the log's state from Redis for open() and for a reset: the epoch (created if the
 * cluster's data is new), the newest snapshot and every entry after it. Another node may switch
 * the snapshot and trim the stream while we read, so a read that is not self-consistent (a chunk
 * gone, entries not starting right after the snapshot, fewer entries than the seq counter had
 * before we began, the epoch changed) is retried from scratch a few times.
 */
export interface LoadedLog {
  readonly epoch: string;
  readonly createdEpoch: boolean;
  readonly recovery: LogRecovery;
  /** The last seq covered by the recovery (snapshot or entries). */
  readonly lastSeq: number;
  /** The writer token of the last entry, when the recovery ends with an entry. */
  readonly lastWriter?: string;
}

const ATTEMPTS = 5;

export async function loadLog(conn: RedisConnection, keys: RedisKeys, timeoutMs: number): Promise<LoadedLog> {
  const call = <T>(command: Promise<T>): Promise<T> => conn.within(command, Date.now() + timeoutMs);
  let why = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const [epoch, created] = await call(conn.client.sbEnsureEpoch(keys.epoch, randomBytes(8).toString('hex')));
    const seqBefore = Number((await call(conn.client.get(keys.seq))) ?? 0);
    const snapshot = await readSnapshot(conn, keys, epoch, timeoutMs);
    if (snapshot === 'raced') {
      why = 'the snapshot was replaced while it was read';
      continue;
    }
    const covered = snapshot?.seq ?? 0;
    const entries: LogEntry[] = [];
    let lastWriter: string | undefined;
    let dense = true;
    await scanStream(conn, keys, covered + 1, () => Date.now() + timeoutMs, (page) => {
      for (const { entry, writer } of page) {
        if (entry.seq !== covered + entries.length + 1) {
          dense = false;
          return true;
        }
        entries.push(entry);
        lastWriter = writer;
      }
    });
    const lastSeq = covered + entries.length;
    if (!dense || lastSeq < seqBefore) {
      why = `entries after seq ${covered} were trimmed while the log was read`;
      continue;
    }
    if ((await call(conn.client.get(keys.epoch))) !== epoch) {
      why = 'the epoch changed while the log was read';
      continue;
    }
    return {
      epoch,
      createdEpoch: created === 1,
      recovery: snapshot === undefined ? { entries } : { snapshot, entries },
      lastSeq,
      ...(lastWriter === undefined ? {} : { lastWriter }),
    };
  }
  throw new Error(`could not read a consistent snapshot and log from Redis in ${ATTEMPTS} attempts: ${why}`);
}
