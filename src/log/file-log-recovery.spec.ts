import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { FileLog } from './file-log.js';
import { FileLogFixture, put } from './file-log-fixture.js';
import { LogCorruptionError } from './log-corruption-error.js';
import { encodeRecord } from './record-format.js';
import { segmentFileName } from './segment-file.js';

/**
 * Crash and corruption cases, made by editing real segment files between a close and an open.
 * Each case records the byte offset of every record as it is appended.
 */
describe('FileLog recovery', () => {
  let fixture: FileLogFixture;
  beforeEach(async () => {
    fixture = await FileLogFixture.create();
  });
  afterEach(() => fixture.cleanup());

  /** Appends seqs from..to one by one into `segment`, returning each record's offset by seq. */
  async function appendTracked(log: FileLog, segment: string, from: number, to: number): Promise<Map<number, number>> {
    const offsets = new Map<number, number>();
    for (let seq = from; seq <= to; seq++) {
      offsets.set(seq, (await stat(segment)).size);
      expect((await log.append(put(seq))).seq).toBe(seq);
    }
    return offsets;
  }

  async function writeFiveEntries(): Promise<{ segment: string; offsets: Map<number, number>; size: number }> {
    const log = fixture.log();
    await log.open();
    const segment = fixture.path(segmentFileName(1));
    const offsets = await appendTracked(log, segment, 1, 5);
    await log.close();
    return { segment, offsets, size: (await stat(segment)).size };
  }

  const tornTails: [string, (s: { segment: string; at: number; size: number }) => Promise<void>, 'cut' | 'added'][] = [
    ['cut inside the last record header', ({ segment, at }) => truncate(segment, at + 3), 'cut'],
    ['cut inside the last record payload', ({ segment, size }) => truncate(segment, size - 3), 'cut'],
    ['garbage appended after the last record', ({ segment }) => appendFile(segment, 'garbage!!'), 'added'],
    ['a whole record with a bad CRC at the end', ({ segment }) => appendFile(segment, record('{"x":1}', 1)), 'added'],
    ['a zero-filled tail', ({ segment }) => appendFile(segment, Buffer.alloc(4096)), 'added'],
  ];

  it.each(tornTails)('drops a torn tail (%s) with a warning and keeps the rest', async (_, damage, kind) => {
    const { segment, offsets, size } = await writeFiveEntries();
    const lastOffset = offsets.get(5) as number;
    await damage({ segment, at: lastOffset, size });
    const goodEnd = kind === 'cut' ? lastOffset : size;
    const kept = kind === 'cut' ? 4 : 5;

    const log = fixture.log();
    const recovery = await log.open();
    expect(recovery.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5].slice(0, kept));
    expect(fixture.logger.warnings).toEqual([expect.stringContaining(`${segment} at byte offset ${goodEnd}`)]);
    expect((await stat(segment)).size).toBe(goodEnd);

    expect((await log.append(put(kept + 1))).seq).toBe(kept + 1);
    await log.close();
    expect((await fixture.log().open()).entries).toHaveLength(kept + 1);
  });

  it('drops a torn tail after a snapshot, keeping the snapshot and the entries after it', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 10; i++) await log.append(put(i));
    await log.saveSnapshot(10, Buffer.from('state@10'));
    const segment = fixture.path(segmentFileName(11));
    const offsets = await appendTracked(log, segment, 11, 13);
    await log.close();
    await truncate(segment, (offsets.get(13) as number) + 5);

    const again = fixture.log();
    const recovery = await again.open();
    expect(recovery.snapshot).toEqual({ seq: 10, data: Buffer.from('state@10') });
    expect(recovery.entries.map((e) => e.seq)).toEqual([11, 12]);
    expect(fixture.logger.warnings).toEqual([expect.stringContaining(`${segment} at byte offset ${offsets.get(13)}`)]);
    expect((await again.append(put(13))).seq).toBe(13);
  });

  const corruptions: [string, (bytes: Buffer, at: number) => void][] = [
    ['a flipped payload byte', (bytes, at) => void (bytes[at + 12] = (bytes[at + 12] as number) ^ 0x01)],
    ['a flipped CRC byte', (bytes, at) => void (bytes[at + 4] = (bytes[at + 4] as number) ^ 0x80)],
    ['a length running past the end of the file', (bytes, at) => void bytes.writeUInt32LE(0xfffff000, at)],
    ['a zero length', (bytes, at) => void bytes.writeUInt32LE(0, at)],
  ];

  it.each(corruptions)('refuses to open with %s in an earlier record, naming file and offset', async (_, damage) => {
    const { segment, offsets } = await writeFiveEntries();
    const at = offsets.get(2) as number;
    const bytes = await readFile(segment);
    damage(bytes, at);
    await writeFile(segment, bytes);

    const error = await fixture.log().open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogCorruptionError);
    expect(error).toMatchObject({ file: segment, offset: at });
    expect((error as Error).message).toContain(`${segment} at byte offset ${at}`);
  });

  it('refuses a record whose CRC holds but whose payload is not an entry, even at the tail', async () => {
    const { segment, size } = await writeFiveEntries();
    await appendFile(segment, record('not json'));
    await expect(fixture.log().open()).rejects.toMatchObject({ file: segment, offset: size });
  });

  it('refuses a record out of sequence', async () => {
    const { segment, size } = await writeFiveEntries();
    await appendFile(segment, encodeRecord({ seq: 3, time: 1, node: 'x', proposal: 0, command: put(0).command }));
    await expect(fixture.log().open()).rejects.toThrow(`${segment} at byte offset ${size}: expected seq 6, found 3`);
  });

  it('treats a torn record in a segment that is not the last as corruption', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 5; i++) await log.append(put(i));
    await log.saveSnapshot(2, Buffer.from('s'));
    for (let i = 6; i <= 8; i++) await log.append(put(i));
    await log.close();
    const first = fixture.path(segmentFileName(1));
    await truncate(first, (await stat(first)).size - 2);
    await expect(fixture.log().open()).rejects.toBeInstanceOf(LogCorruptionError);
  });

  it('reports a missing segment as a seq gap naming the segment after it', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 5; i++) await log.append(put(i));
    await log.saveSnapshot(2, Buffer.from('s'));
    for (let i = 6; i <= 10; i++) await log.append(put(i));
    await log.saveSnapshot(3, Buffer.from('s'));
    await log.append(put(11));
    await log.close();
    await rm(fixture.path(segmentFileName(6)));
    const last = fixture.path(segmentFileName(11));
    await expect(fixture.log().open()).rejects.toThrow(`${last} at byte offset 0: segment starts at seq 11, expected 6`);
  });
});

function record(payload: string, crcDelta = 0): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE((crc32(body) + crcDelta) >>> 0, 4);
  return Buffer.concat([header, body]);
}
