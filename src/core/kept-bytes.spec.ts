import { describe, expect, it } from '@jest/globals';
import { keptCopy } from './kept-bytes.js';

describe('keptCopy', () => {
  it('copies: the source can change or go away without touching the copy', () => {
    const source = Buffer.from('config value');
    const copy = keptCopy(source.subarray(7));
    source.fill(0);
    expect(copy.toString()).toBe('value');
  });

  it('puts small values side by side in slabs of their own, apart from Node’s shared pool', () => {
    const first = keptCopy(Buffer.from('a'.repeat(256)));
    // A transient allocation in between, cut from Node's pool as most small buffers are.
    const transient = Buffer.from('request bytes');
    const second = keptCopy(Buffer.from('b'.repeat(256)));
    expect(second.buffer).toBe(first.buffer);
    expect(transient.buffer).not.toBe(first.buffer);
    expect(first.buffer.byteLength).toBe(8 * 1024);
    expect([first.byteOffset % 8, second.byteOffset % 8]).toEqual([0, 0]);
    expect([first.toString(), second.toString()]).toEqual(['a'.repeat(256), 'b'.repeat(256)]);
  });

  it('starts a new slab when a value does not fit in what is left of the current one', () => {
    const first = keptCopy(Buffer.alloc(2000, 1));
    let last = first;
    for (let i = 0; i < 10 && last.buffer === first.buffer; i++) last = keptCopy(Buffer.alloc(2000, 2));
    expect(last.buffer).not.toBe(first.buffer);
    expect(last.equals(Buffer.alloc(2000, 2))).toBe(true);
  });

  it('gives a value over 2 KiB an allocation of its exact size, and an empty one no memory', () => {
    const large = keptCopy(Buffer.alloc(2049, 7));
    expect([large.buffer.byteLength, large.byteOffset]).toEqual([2049, 0]);
    expect(keptCopy(Buffer.alloc(0)).length).toBe(0);
  });
});
