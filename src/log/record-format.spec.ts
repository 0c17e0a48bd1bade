import { describe, expect, it } from '@jest/globals';
import { crc32 } from 'node:zlib';
import { encodeRecord, scanRecords } from './record-format.js';

const entry = (seq: number) => ({
  seq,
  time: 1_700_000_000_000 + seq,
  node: 'n',
  proposal: seq,
  command: { type: 'kv.delete' as const, key: `k${seq}` },
});
const a = encodeRecord(entry(1));
const b = encodeRecord(entry(2));
const join = (...parts: Buffer[]) => Buffer.concat(parts);

function bogus(payload: string, crcDelta: number): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE((crc32(body) + crcDelta) >>> 0, 4);
  return join(header, body);
}

function withLength(record: Buffer, length: number): Buffer {
  const copy = Buffer.from(record);
  copy.writeUInt32LE(length, 0);
  return copy;
}

describe('scanRecords', () => {
  it('splits intact records', () => {
    const { records, defect } = scanRecords(join(a, b));
    expect(records.map((r) => r.offset)).toEqual([0, a.length]);
    expect(defect).toBeUndefined();
  });

  // [case, bytes, defect offset, torn]
  it.each<[string, Buffer, number, boolean]>([
    ['header cut short', join(a, b.subarray(0, 5)), a.length, true],
    ['payload cut short', join(a, b.subarray(0, b.length - 1)), a.length, true],
    ['bad CRC ending exactly at EOF', join(a, bogus('{}', 1)), a.length, true],
    ['zero-filled tail', join(a, Buffer.alloc(100)), a.length, true],
    ['bad CRC followed by only garbage', join(a, bogus('{}', 1), Buffer.from('xyz')), a.length, true],
    ['bad CRC followed by an intact record', join(bogus('{}', 1), b), 0, false],
    ['length past EOF but an intact record behind it', join(withLength(a, 1 << 30), b), 0, false],
    ['zero length before an intact record', join(withLength(a, 0), b), 0, false],
  ])('%s', (_, bytes, offset, torn) => {
    expect(scanRecords(bytes).defect).toMatchObject({ offset, torn });
  });
});
