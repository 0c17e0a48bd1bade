import { decodeJson } from '../core/codec.js';
import type { LogEntry } from '../core/commands.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import type { ReadLogReply } from './redis-scripts.js';
import { seqOfStreamId } from './redis-keys.js';
import type { Proposal } from './replicated-log.js';

/**
 * Reading the log stream. A stream entry is `<seq>-1 p <payload> t <time> w <writer>`: the
 * payload is the codec's bytes of the proposal {node, proposal, command}; seq (the id) and time
 * were assigned by the append script beside it. `w` names the single append call that wrote it
 * (incarnation + call number): an outcome-unknown append looks for it, and a node compares it
 * to tell whether the entry at a seq is still the one it applied.
 */
export interface StreamEntry {
  readonly entry: LogEntry;
  readonly writer: string;
}

export type RawStreamEntry = [id: Buffer, fields: Buffer[]];

/** The most entries, and bytes of their values, one read of the log returns. */
export const READ_ENTRIES = 1000;
export const READ_BYTES = 16 * 1024 * 1024;

/**
 * `ownProposal` returns (and forgets) the proposal this node appended under a writer token, so
 * the node that proposed an entry does not decode the payload it encoded itself: the token names
 * exactly one append call, so the entry carrying it holds that proposal.
 */
export function parseStreamEntry([id, fields]: RawStreamEntry, ownProposal?: (writer: string) => Proposal | undefined): StreamEntry {
  const seq = seqOfStreamId(id.toString('latin1'));
  let payload: Buffer | undefined;
  let time = NaN;
  let writer = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as Buffer;
    switch (fields[i]?.toString('latin1')) {
      case 'p':
        payload = value;
        break;
      case 't':
        time = Number(value.toString('latin1'));
        break;
      case 'w':
        writer = value.toString('latin1');
    }
  }
  if (payload === undefined || !Number.isSafeInteger(time)) throw new Error(`log entry ${seq} lacks its payload or time`);
  const { node, proposal, command } = ownProposal?.(writer) ?? decodeJson<Proposal>(payload);
  return { entry: { seq, time, node, proposal, command }, writer };
}

/**
 * Pages through the stream from `fromSeq` (inclusive) to its end as each page found it (so
 * appends that keep coming do not keep the scan going), handing each page to `visit`; stops
 * early when `visit` returns true. Each page must arrive by `deadline()`, asked afresh per page
 * (a fixed deadline bounds the whole scan, a sliding one each page).
 */
export async function scanStream(
  conn: RedisConnection,
  keys: RedisKeys,
  fromSeq: number,
  deadline: () => number,
  visit: (page: readonly StreamEntry[]) => boolean | void,
): Promise<void> {
  let from = Math.max(1, fromSeq);
  for (;;) {
    const [, seq, raw] = await conn.within(readLog(conn, keys, from), deadline());
    const page = raw.map((entry) => parseStreamEntry(entry));
    const last = page.at(-1);
    if (last === undefined || visit(page) === true || readToEnd(last.entry.seq, seq)) return;
    from = last.entry.seq + 1;
  }
}

/** Whether a read whose last entry is `lastRead` reached the end of the log, given the seq counter it returned. */
export function readToEnd(lastRead: number, seqCounter: Buffer | null): boolean {
  return lastRead >= Number(seqCounter?.toString('latin1') ?? 0);
}

/**
 * One bounded read of the stream from `fromSeq` on, with the epoch and seq counter after it: at
 * most READ_ENTRIES entries and READ_BYTES of values (one entry at least), so a node far behind
 * a log of large values never asks Redis for a reply of hundreds of MB.
 */
export function readLog(conn: RedisConnection, keys: RedisKeys, fromSeq: number): Promise<ReadLogReply> {
  return conn.client.sbReadLogBuffer(keys.log, keys.epoch, keys.seq, fromSeq, READ_ENTRIES, READ_BYTES);
}
