import { describe, expect, it } from '@jest/globals';
import { decodeJson, encodeJson, TextChunks } from './codec.js';

describe('codec', () => {
  it('round-trips Buffers and uint64 bigints at any depth', () => {
    const value = { a: [{ v: Buffer.from([0, 255]), f: 18446744073709551615n }], e: Buffer.alloc(0), n: 3, s: 'x', z: null };
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });

  it('writes equal byte strings once, whatever object holds them, and decodes them shared', () => {
    const one = { x: Buffer.from('same'), y: Buffer.from('same'), z: Buffer.from('other') };
    const encoded = encodeJson(one);
    // 'same' appears once in the blob after the JSON: 4 + 'other'.length bytes of blob.
    const jsonLength = encoded.readUInt32BE(0);
    expect(encoded.length - 4 - jsonLength).toBe('same'.length + 'other'.length);
    const decoded = decodeJson<typeof one>(encoded);
    expect(decoded.x).toBe(decoded.y);
    expect(decoded.z.toString()).toBe('other');
  });

  it('keeps an empty value apart from the value stored at the same offset', () => {
    const decoded = decodeJson<{ e: Buffer; y: Buffer }>(encodeJson({ e: Buffer.alloc(0), y: Buffer.from('y') }));
    expect(decoded.e.length).toBe(0);
    expect(decoded.y.toString()).toBe('y');
  });

  it('gives equal bytes for equal values built from different objects', () => {
    const build = (): unknown => ({ list: [Buffer.from('a'), Buffer.from('b'), Buffer.from('a')] });
    expect(encodeJson(build()).equals(encodeJson(build()))).toBe(true);
  });

  it('writes the JSON text JSON.stringify gives for the tagged value', () => {
    const value = {
      s: 'quote " backslash \\ newline \n é \u{1F600} \u2028',
      n: [0, -1, 1.5, 2 ** 53, -0],
      b: [true, false, null],
      skipped: undefined,
      nested: { list: [[], {}, [undefined, { x: 1 }]], big: 2n ** 64n - 1n, bytes: Buffer.from('ab') },
    };
    const tagged = {
      s: value.s,
      n: value.n,
      b: value.b,
      nested: { list: [[], {}, [null, { x: 1 }]], big: { $u: '18446744073709551615' }, bytes: { $r: [0, 2] } },
    };
    const encoded = encodeJson(value);
    expect(encoded.toString('utf8', 4, 4 + encoded.readUInt32BE(0))).toBe(JSON.stringify(tagged));
  });

  it('leaves the requested headroom in front of the encoded bytes', () => {
    const plain = encodeJson({ v: Buffer.from('x') });
    const framed = encodeJson({ v: Buffer.from('x') }, true, 8);
    expect(framed.subarray(8).equals(plain)).toBe(true);
  });

  it.each([
    ['shorter than its header', Buffer.from([0, 0])],
    ['shorter than its JSON length', Buffer.from([0, 0, 0, 9, 0x7b])],
    ['refers past its end', Buffer.concat([Buffer.from([0, 0, 0, 14]), Buffer.from('{"$r":[0,100]}x')])],
  ])('rejects input %s', (message, bytes) => {
    expect(() => decodeJson(bytes)).toThrow(message);
  });
});

describe('TextChunks', () => {
  it('holds exactly the UTF-8 bytes of everything written, across chunk boundaries and past a chunk size', () => {
    const pieces = ['{"a":', 'é☃😀'.repeat(1000), 'x'.repeat(700_000), '\ud800', 'ü'.repeat(400_000), '"}'];
    const chunks = new TextChunks();
    for (const piece of pieces) chunks.write(piece);
    const whole = Buffer.from(pieces.join(''), 'utf8');
    expect(chunks.byteLength).toBe(whole.length);
    expect(chunks.buffers().length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks.buffers()).equals(whole)).toBe(true);
  });
});
