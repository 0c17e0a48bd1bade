import { afterEach, describe, expect, it } from '@jest/globals';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './file-log-fixture.js';
import { decodeSnapshotFile, snapshotFileName, writeSnapshotFile } from './snapshot-file.js';

describe('snapshot file', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function written(): Promise<Buffer> {
    const dir = await makeTempDir();
    dirs.push(dir);
    await writeSnapshotFile(dir, { seq: 42, time: 1_700_000_000_000, data: Buffer.from('state') });
    return readFile(join(dir, snapshotFileName(42)));
  }

  it('round-trips seq, time and data', async () => {
    expect(decodeSnapshotFile(await written(), 42)).toEqual({
      seq: 42,
      time: 1_700_000_000_000,
      data: Buffer.from('state'),
    });
  });

  it.each<[string, (bytes: Buffer) => Buffer, RegExp]>([
    ['cut inside the header', (bytes) => bytes.subarray(0, 20), /header/],
    ['cut inside the data', (bytes) => bytes.subarray(0, bytes.length - 1), /data length/],
    ['a flipped header byte', (bytes) => flip(bytes, 9), /header CRC/],
    ['a flipped data byte', (bytes) => flip(bytes, bytes.length - 1), /data CRC/],
    ['wrong magic', (bytes) => flip(bytes, 0), /magic/],
  ])('reports a file with %s as unusable', async (_, damage, reason) => {
    expect(decodeSnapshotFile(damage(await written()), 42)).toMatch(reason);
  });

  it('rejects a file whose header seq differs from its name', async () => {
    expect(decodeSnapshotFile(await written(), 43)).toMatch(/does not match the file name/);
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] as number) ^ 0xff;
  return copy;
}
