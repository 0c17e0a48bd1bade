import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileLogFixture, put } from './file-log-fixture.js';
import { segmentFileName } from './segment-file.js';
import { snapshotFileName, writeSnapshotFile } from './snapshot-file.js';

/**
 * saveSnapshot is: write tmp → rename → delete old snapshots → roll segment → delete covered
 * segments. Each case leaves the directory as a crash between two of those steps would.
 */
describe('FileLog startup after a crash inside saveSnapshot', () => {
  let fixture: FileLogFixture;
  beforeEach(async () => {
    fixture = await FileLogFixture.create();
  });
  afterEach(() => fixture.cleanup());

  async function appendClosed(count: number): Promise<void> {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= count; i++) await log.append(put(i));
    await log.close();
  }

  it('ignores and removes leftover tmp files', async () => {
    await appendClosed(3);
    await writeFile(fixture.path(`${snapshotFileName(3)}.tmp`), 'half a snapshot');
    await writeFile(fixture.path(`${segmentFileName(4)}.tmp`), '');
    const recovery = await fixture.log().open();
    expect(recovery).toMatchObject({ entries: [{ seq: 1 }, { seq: 2 }, { seq: 3 }] });
    expect(recovery.snapshot).toBeUndefined();
    expect(await fixture.files()).toEqual(['LOCK', segmentFileName(1)]);
  });

  it('uses a snapshot written before the segment rolled (crash right after the rename)', async () => {
    await appendClosed(10);
    await writeSnapshotFile(fixture.dir, { seq: 6, time: 0, data: Buffer.from('state@6') });
    const log = fixture.log();
    const recovery = await log.open();
    expect(recovery.snapshot).toEqual({ seq: 6, data: Buffer.from('state@6') });
    expect(recovery.entries.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    expect((await log.append(put(11))).seq).toBe(11);
  });

  it('skips and removes a segment the snapshot fully covers (crash before its deletion)', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 10; i++) await log.append(put(i));
    const covered = await readFile(fixture.path(segmentFileName(1)));
    await log.saveSnapshot(10, Buffer.from('state@10'));
    await log.append(put(11));
    await log.close();
    await writeFile(fixture.path(segmentFileName(1)), covered);

    const recovery = await fixture.log().open();
    expect(recovery.snapshot?.seq).toBe(10);
    expect(recovery.entries.map((e) => e.seq)).toEqual([11]);
    expect(await fixture.files()).not.toContain(segmentFileName(1));
  });

  it('continues after the snapshot when it is ahead of every segment', async () => {
    await appendClosed(3);
    await writeSnapshotFile(fixture.dir, { seq: 20, time: 0, data: Buffer.from('state@20') });
    const log = fixture.log();
    expect(await log.open()).toEqual({ snapshot: { seq: 20, data: Buffer.from('state@20') }, entries: [] });
    expect((await log.append(put(21))).seq).toBe(21);
    await log.close();
    expect((await fixture.log().open()).entries.map((e) => e.seq)).toEqual([21]);
  });

  it('falls back to an older snapshot, with a warning, when the newest is damaged', async () => {
    const log = fixture.log();
    await log.open();
    for (let i = 1; i <= 10; i++) await log.append(put(i));
    await log.saveSnapshot(5, Buffer.from('state@5'));
    await log.close();
    const damaged = join(fixture.dir, snapshotFileName(8));
    await writeFile(damaged, 'not a snapshot at all, but long enough for a header.....');

    const recovery = await fixture.log().open();
    expect(recovery.snapshot).toEqual({ seq: 5, data: Buffer.from('state@5') });
    expect(recovery.entries.map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(fixture.logger.warnings).toEqual([expect.stringContaining(damaged)]);
  });

  it('creates a missing data directory, nested', async () => {
    const dir = join(fixture.dir, 'a', 'b');
    const log = fixture.log({ dataDir: dir });
    expect(await log.open()).toEqual({ entries: [] });
    expect((await log.append(put(1))).seq).toBe(1);
  });
});
