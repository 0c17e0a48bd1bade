import type { ChainableCommander, Redis } from 'ioredis';
import type { RawStreamEntry } from './redis-stream.js';

/**
 * The Lua scripts of the Redis log. Each is one atomic step; each does every check before its
 * first write, so a refused call changes nothing (Redis does not roll a script back). Loaded
 * with defineCommand: ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (a restarted or
 * failed-over Redis has an empty script cache), which is safe because NOSCRIPT runs nothing.
 * Error replies start with a stable code (SBEPOCH, SBFENCED, ...) that the client matches.
 */

/**
 * A Lua function the reading scripts share: entries of the log stream from seq `from` up to seq
 * `to` (or '+'), in order, at most `maxEntries` of them and no more bytes of field values than
 * `maxBytes`, except that the first entry comes even when it alone has more. Read in pages of at
 * most 100, so a large range never makes Redis hold a reply bigger than the bound.
 */
const READ_RANGE_FUNCTION = `
local function readRange(log, from, to, maxEntries, maxBytes)
  local entries = {}
  local bytes = 0
  local last = to == '+' and '+' or string.format('%d', to) .. '-1'
  while #entries < maxEntries do
    local page = redis.call('XRANGE', log, string.format('%d', from) .. '-1', last, 'COUNT', math.min(100, maxEntries - #entries))
    if #page == 0 then return entries end
    for i = 1, #page do
      local fields = page[i][2]
      local size = 0
      for j = 2, #fields, 2 do size = size + #fields[j] end
      if #entries > 0 and bytes + size > maxBytes then return entries end
      bytes = bytes + size
      entries[#entries + 1] = page[i]
    end
    from = tonumber(string.match(page[#page][1], '^(%d+)')) + 1
  end
  return entries
end
`;

/**
 * Append a batch of entries: every append a node makes in one turn of its event loop, in one
 * call, so a busy node pays one script call (and one reply) per batch instead of per entry. The
 * reply also carries the entries other nodes appended since the caller's applied position, so a
 * node that keeps appending applies the log from its replies and needs no read-back.
 * KEYS: 1 epoch, 2 seq, 3 time, 4 log (stream), 5 this node's fence.
 * ARGV: 1 expected epoch, 2 connection generation the call was sent on, 3 the batch, packed as
 *       repeated `u16 BE writer length | writer | u32 BE payload length | payload`, where the
 *       writer token names one append call and the payload is the codec's bytes of
 *       {node, proposal, command}. Packed into one argument because ioredis is slow to build a
 *       command of thousands of arguments. 4 the seq the caller has applied up to, 5 the writer
 *       token of the entry at that seq ('' when unknown), 6 and 7 the most entries before the
 *       batch it wants back and the most bytes of field values they may hold (read in pages, so
 *       a node far behind does not make the script hold a huge reply).
 * Returns: { seq of the first entry, time, caught up (1|0), entries before the batch }. The
 * batch's entries have consecutive seqs in order. When caught up is 1, the last element holds
 * every entry after ARGV[4] and before the batch, as XRANGE returns them, and the entry at ARGV[4]
 * is the one the caller applied (same writer), so the caller can apply them and its batch in
 * order; otherwise it is empty and the caller must read the stream (it is more than ARGV[6]
 * entries or ARGV[7] bytes behind, the entry it applied last is trimmed or replaced, or the seq
 * counter is below ARGV[4]: the history changed).
 * Invariants: every entry gets seq = previous seq + 1 and the stream id `<seq>-1`, so the log is
 * dense; time = max(Redis TIME in ms, previous time), so it never goes backwards (one time for
 * the whole batch). Each entry is `p` payload, `t` time, `w` writer; seq and time live beside
 * the payload, not inside it, so this script never needs to know the codec's byte layout.
 * Refuses (SBEPOCH) when the epoch is not the caller's, so a node never appends into a replaced
 * dataset, and (SBFENCED) when the caller has fenced the generation the call was sent on.
 */
const APPEND_BATCH = `${READ_RANGE_FUNCTION}
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then
  return redis.error_reply('SBEPOCH the log epoch is ' .. (epoch or 'missing') .. ', this node has ' .. ARGV[1])
end
local fence = redis.call('GET', KEYS[5])
if fence and tonumber(ARGV[2]) < tonumber(fence) then
  return redis.error_reply('SBFENCED sent on connection generation ' .. ARGV[2] .. ', fenced below ' .. fence)
end
local first = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local applied = tonumber(ARGV[4])
local behind = first - 1 - applied
local caughtUp = 0
local before = {}
if behind >= 0 and behind <= tonumber(ARGV[6]) then
  caughtUp = 1
  if applied > 0 then
    local at = redis.call('XRANGE', KEYS[4], string.format('%d', applied) .. '-1', string.format('%d', applied) .. '-1')
    local writer = nil
    if at[1] then
      local fields = at[1][2]
      for i = 1, #fields, 2 do if fields[i] == 'w' then writer = fields[i + 1] end end
    end
    if ARGV[5] == '' or writer ~= ARGV[5] then caughtUp = 0 end
  end
  if caughtUp == 1 and behind > 0 then
    before = readRange(KEYS[4], applied + 1, first - 1, behind, tonumber(ARGV[7]))
    -- Fewer entries than seqs: some were trimmed away, or they hold more bytes than asked for.
    if #before ~= behind then caughtUp = 0; before = {} end
  end
end
local now = redis.call('TIME')
local time = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
if time < last then time = last end
local timeText = string.format('%d', time)
local packed = ARGV[3]
local at = 1
local seq = first - 1
while at <= #packed do
  local writerLength, writerAt = struct.unpack('>I2', packed, at)
  local writer = string.sub(packed, writerAt, writerAt + writerLength - 1)
  local payloadLength, payloadAt = struct.unpack('>I4', packed, writerAt + writerLength)
  at = payloadAt + payloadLength
  seq = seq + 1
  -- Only the first XADD can fail (an id not above the stream's top), before anything changed:
  -- the ids after it are above it.
  redis.call('XADD', KEYS[4], string.format('%d', seq) .. '-1', 'p', string.sub(packed, payloadAt, at - 1), 't', timeText, 'w', writer)
end
if seq < first then return redis.error_reply('SBEMPTY an append batch needs at least one entry') end
redis.call('SET', KEYS[2], string.format('%d', seq))
redis.call('SET', KEYS[3], timeText)
return { first, time, caughtUp, before }
`;

/**
 * Read the log from a seq on, bounded in entries and bytes (see readRange), with the epoch and
 * the seq counter as they are after the read (one atomic step: nothing can happen in between).
 * KEYS: 1 log, 2 epoch, 3 seq. ARGV: 1 first seq to read, 2 most entries, 3 most bytes.
 * Returns: { epoch (false if missing), seq counter (false if missing), entries }.
 */
const READ_LOG = `${READ_RANGE_FUNCTION}
local entries = readRange(KEYS[1], tonumber(ARGV[1]), '+', tonumber(ARGV[2]), tonumber(ARGV[3]))
return { redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]), entries }
`;

/** Packs writer tokens and payloads as APPEND_BATCH reads them. */
export function packAppendBatch(items: readonly { readonly writer: string; readonly payload: Buffer }[]): Buffer {
  let length = 0;
  for (const { writer, payload } of items) length += 2 + Buffer.byteLength(writer, 'latin1') + 4 + payload.length;
  const packed = Buffer.allocUnsafe(length);
  let at = 0;
  for (const { writer, payload } of items) {
    at = packed.writeUInt16BE(Buffer.byteLength(writer, 'latin1'), at);
    at += packed.write(writer, at, 'latin1');
    at = packed.writeUInt32BE(payload.length, at);
    at += payload.copy(packed, at);
  }
  return packed;
}

/**
 * Read the epoch, creating it if the cluster is new (or its data was flushed).
 * KEYS: 1 epoch. ARGV: 1 a fresh random epoch. Returns: { epoch, 1 if created else 0 }.
 * Invariant: an existing epoch is never overwritten (SET NX), so concurrent creators agree.
 */
const ENSURE_EPOCH = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return { ARGV[1], 1 } end
return { redis.call('GET', KEYS[1]), 0 }
`;

/**
 * Raise this incarnation's fence to at least the given connection generation.
 * KEYS: 1 fence. ARGV: 1 generation, 2 TTL ms. Returns: the fence now in force.
 * Invariant: the fence never goes down while it lives; once this returns, no append sent on an
 * older generation can be applied any more, so a later read of the log settles it for good.
 */
const FENCE = `
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
local generation = tonumber(ARGV[1])
if generation > fence then fence = generation end
redis.call('SET', KEYS[1], string.format('%d', fence), 'PX', ARGV[2])
return fence
`;

/**
 * Switch the snapshot to freshly written chunks.
 * KEYS: 1 snapshot meta, 2 epoch, 3 seq, 4 log, then ARGV[6] old chunk keys, then the new ones.
 * ARGV: 1 meta JSON the caller read before writing (or ''), 2 new meta JSON, 3 epoch,
 *       4 snapshot seq, 5 retained entries, 6 number of old chunk keys, 7 TTL (ms) for them.
 * Returns: { 'ok', first seq to keep } | { 'changed' } (meta is not what the caller read: retry
 * or give up) | { 'stale' } (a snapshot at this seq or later exists).
 * Invariants: readers see the old snapshot or the new one, never a mix; the seq of the stored
 * snapshot only grows; new chunks (written with a TTL so a crashed writer leaves no debris) are
 * made permanent, and the replaced ones get a TTL again.
 * The slow parts are left to the caller, in small steps: deleting the replaced chunks (freeing
 * ~100 MB here held Redis for ~10 ms) and trimming the stream below the returned seq with
 * TRIM_LOG (one XTRIM of the hundreds of thousands of entries a busy log gathers between
 * snapshots held Redis, and so every node's appends, for 20-40 ms). That seq keeps at least
 * `retained` entries and never passes the snapshot. A caller that dies first leaves the chunks
 * to expire and the stream to the next snapshot's trim.
 */
const SWITCH_SNAPSHOT = `
if redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('SBEPOCH the log epoch changed while the snapshot was written')
end
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return { 'changed' } end
local snapSeq = tonumber(ARGV[4])
if current ~= '' and tonumber(cjson.decode(current).seq) >= snapSeq then return { 'stale' } end
local lastSeq = tonumber(redis.call('GET', KEYS[3]) or '0')
if snapSeq > lastSeq then
  return redis.error_reply('SBRANGE cannot snapshot at seq ' .. ARGV[4] .. ': the log ends at seq ' .. string.format('%d', lastSeq))
end
local oldCount = tonumber(ARGV[6])
for i = 5 + oldCount, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    return redis.error_reply('SBCHUNK snapshot chunk ' .. KEYS[i] .. ' expired before the switch')
  end
end
for i = 5 + oldCount, #KEYS do redis.call('PERSIST', KEYS[i]) end
redis.call('SET', KEYS[1], ARGV[2])
for i = 5, 4 + oldCount do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
return { 'ok', math.min(snapSeq + 1, lastSeq - tonumber(ARGV[5]) + 1) }
`;

/**
 * One step of trimming the log below a seq (after SWITCH_SNAPSHOT).
 * KEYS: 1 epoch, 2 log. ARGV: 1 epoch the seq belongs to, 2 first seq to keep, 3 step size.
 * Returns: { entries trimmed, done (1|0) }; SBEPOCH when the epoch changed: the log is another
 * history now, and trimming it by this one's seqs would delete entries nothing covers.
 * A step removes whole stream nodes below the seq, at most about ARGV[3] entries (XTRIM ~ LIMIT:
 * cheap, bounded); once no whole node is left, it trims the rest exactly and reports done.
 */
const TRIM_LOG = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('SBEPOCH the log epoch changed while it was being trimmed')
end
local minId = ARGV[2] .. '-0'
local trimmed = redis.call('XTRIM', KEYS[2], 'MINID', '~', minId, 'LIMIT', ARGV[3])
if trimmed > 0 then return { trimmed, 0 } end
return { redis.call('XTRIM', KEYS[2], 'MINID', minId), 1 }
`;

/**
 * Extend a lock only if we still hold it.
 * KEYS: 1 lock. ARGV: 1 our lock value, 2 new TTL in ms. Returns: 1 extended, 0 not ours (any more).
 */
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * Release a lock only if we still hold it (it may have expired and been taken by another node).
 * KEYS: 1 lock. ARGV: 1 our lock value. Returns: 1 released, 0 not ours.
 */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Forget a member: delete its key if it still holds the given value (a node leaving deletes only
 * its own heartbeat, not a newer incarnation's), then drop its name if its key is gone.
 * KEYS: 1 members set, 2 member key. ARGV: 1 name, 2 the value to delete ('' to only prune).
 * Returns: 1 if the name was dropped, else 0.
 * Invariant: a name stays listed while its key lives; done in one step so a heartbeat that
 * renews the key between a check and a removal cannot be lost.
 */
const FORGET_MEMBER = `
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('SREM', KEYS[1], ARGV[1])
`;

type Arg = string | Buffer | number;

export interface LogScripts {
  sbAppendBatch(
    epochKey: string,
    seqKey: string,
    timeKey: string,
    logKey: string,
    fenceKey: string,
    epoch: string,
    generation: number,
    packed: Buffer,
    appliedSeq: number,
    appliedWriter: string,
    maxEntriesBefore: number,
    maxBytesBefore: number,
  ): Promise<AppendBatchReply>;
  sbEnsureEpoch(epochKey: string, candidate: string): Promise<[string, number]>;
  /** Replies with Buffers, so payloads keep their bytes. */
  sbReadLogBuffer(logKey: string, epochKey: string, seqKey: string, fromSeq: number, maxEntries: number, maxBytes: number): Promise<ReadLogReply>;
  sbFence(fenceKey: string, generation: number, ttlMs: number): Promise<number>;
  /** Variable key count: the first argument is the number of keys. */
  sbSwitchSnapshot(numberOfKeys: number, ...keysThenArgs: Arg[]): Promise<[string, number?]>;
  sbTrimLog(epochKey: string, logKey: string, epoch: string, firstKept: number, stepEntries: number): Promise<[trimmed: number, done: number]>;
  sbRenewLock(lockKey: string, value: string, ttlMs: number): Promise<number>;
  sbReleaseLock(lockKey: string, value: string): Promise<number>;
  sbForgetMember(membersKey: string, memberKey: string, name: string, value: string): Promise<number>;
}

/** The same commands queued on a pipeline (results come from exec()). */
export interface LogScriptsPipeline {
  /** Replies with Buffers, so the entries before the batch keep their payload bytes. */
  sbAppendBatchBuffer(...args: Parameters<LogScripts['sbAppendBatch']>): ChainableCommander;
}

/** READ_LOG's reply: the epoch and seq counter after the read (null when missing), the entries. */
export type ReadLogReply = [epoch: Buffer | null, seq: Buffer | null, entries: RawStreamEntry[]];

/** APPEND_BATCH's reply: first seq, time, caught up (1|0), the entries before the batch. */
export type AppendBatchReply = [first: number, time: number, caughtUp: number, before: RawStreamEntry[]];

export type ScriptedRedis = Redis & LogScripts;

export function defineLogScripts(client: Redis): ScriptedRedis {
  client.defineCommand('sbAppendBatch', { numberOfKeys: 5, lua: APPEND_BATCH });
  client.defineCommand('sbEnsureEpoch', { numberOfKeys: 1, lua: ENSURE_EPOCH });
  client.defineCommand('sbReadLog', { numberOfKeys: 3, lua: READ_LOG });
  client.defineCommand('sbFence', { numberOfKeys: 1, lua: FENCE });
  client.defineCommand('sbSwitchSnapshot', { lua: SWITCH_SNAPSHOT });
  client.defineCommand('sbTrimLog', { numberOfKeys: 2, lua: TRIM_LOG });
  client.defineCommand('sbRenewLock', { numberOfKeys: 1, lua: RENEW_LOCK });
  client.defineCommand('sbReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
  client.defineCommand('sbForgetMember', { numberOfKeys: 2, lua: FORGET_MEMBER });
  return client as ScriptedRedis;
}

export function scriptedPipeline(client: ScriptedRedis): ChainableCommander & LogScriptsPipeline {
  return client.pipeline() as ChainableCommander & LogScriptsPipeline;
}

/** The stable code an error reply of ours starts with (SBEPOCH, SBFENCED, ...), if any. */
export function scriptErrorCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /^(SB[A-Z]+) /.exec(message)?.[1];
}
