/**
 * Every key of one Switchboard cluster carries the hash tag `{<prefix>}`, so the whole cluster
 * lives in one Redis Cluster slot (scripts may touch any of them atomically) and clusters with
 * different prefixes can share one Redis without seeing each other.
 *
 * Stream ids are `<seq>-1`: the id *is* the seq, so XREAD/XRANGE/XTRIM MINID speak seq directly.
 */
export interface RedisKeys {
  /** The log: a stream of entries, id `<seq>-1`. */
  readonly log: string;
  /** Last assigned seq (a counter written only by the append script). */
  readonly seq: string;
  /** Last assigned entry time in ms, so the log clock never goes backwards. */
  readonly time: string;
  /** Random id written once (SET NX) when the cluster's data is created. */
  readonly epoch: string;
  /** Snapshot metadata (JSON); switched atomically after its chunks are written. */
  readonly snapshot: string;
  /** Held (SET NX PX) by the one node currently writing a snapshot. */
  readonly snapshotLock: string;
  /** One chunk of the snapshot identified by `id`. */
  snapshotChunk(id: string, index: number): string;
  /** Per-incarnation fence: appends sent on an older connection generation are refused. */
  fence(incarnation: string): string;
  /** Names of the nodes that heartbeat (some may have expired: their member key is gone). */
  readonly members: string;
  /** One node's heartbeat: its address, kept alive by a TTL the node keeps renewing. */
  member(name: string): string;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

export function redisKeys(prefix: string): RedisKeys {
  if (!PREFIX.test(prefix)) {
    throw new RangeError(`Redis key prefix must be 1-64 characters of A-Z a-z 0-9 _ . : -, got "${prefix}"`);
  }
  const tag = `{${prefix}}`;
  return {
    log: `${tag}:log`,
    seq: `${tag}:seq`,
    time: `${tag}:time`,
    epoch: `${tag}:epoch`,
    snapshot: `${tag}:snap`,
    snapshotLock: `${tag}:snap-lock`,
    snapshotChunk: (id, index) => `${tag}:snap:${id}:${index}`,
    fence: (incarnation) => `${tag}:fence:${incarnation}`,
    members: `${tag}:members`,
    member: (name) => `${tag}:member:${name}`,
  };
}

export function streamId(seq: number): string {
  return `${seq}-1`;
}

/** The seq of a stream id we wrote; anything else is not ours and is rejected loudly. */
export function seqOfStreamId(id: string): number {
  const match = /^(\d+)-1$/.exec(id);
  const seq = match?.[1] === undefined ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`unexpected stream id "${id}" in the log`);
  return seq;
}
