import { describe, expect, it } from '@jest/globals';
import { redisKeys, seqOfStreamId, streamId } from './redis-keys.js';

describe('redisKeys', () => {
  it('puts every key of a cluster under one hash tag', () => {
    const keys = redisKeys('blue');
    const all = [keys.log, keys.seq, keys.time, keys.epoch, keys.snapshot, keys.snapshotLock, keys.snapshotChunk('7.ab', 0), keys.fence('f00'), keys.members, keys.member('a')];
    expect(all.every((key) => key.startsWith('{blue}:'))).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });

  it.each(['', 'a{b', 'a}b', 'has space', 'x'.repeat(65)])('refuses the prefix %j', (prefix) => {
    expect(() => redisKeys(prefix)).toThrow(RangeError);
  });
});

describe('stream ids', () => {
  it.each([1, 42, 2 ** 40])('round-trips seq %i through `<seq>-1`', (seq) => {
    expect(seqOfStreamId(streamId(seq))).toBe(seq);
  });

  it.each(['0-1', '5-0', '5', 'x-1', '-1-1'])('refuses %j, which no append of ours writes', (id) => {
    expect(() => seqOfStreamId(id)).toThrow(/unexpected stream id/);
  });
});
