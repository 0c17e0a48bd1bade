import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { FileLogFixture, put } from './file-log-fixture.js';
import { LogCorruptionError } from './log-corruption-error.js';

describe('data directory lock', () => {
  let fixture: FileLogFixture;
  beforeEach(async () => {
    fixture = await FileLogFixture.create();
  });
  afterEach(() => fixture.cleanup());

  it('refuses a second FileLog on a directory this process has open', async () => {
    await fixture.log().open();
    await expect(fixture.log().open()).rejects.toThrow(`data directory ${fixture.dir} is already open in this process`);
  });

  it('refuses a directory locked by another running process, naming its pid', async () => {
    const otherPid = process.ppid; // alive (it runs us) and not us
    await writeFile(fixture.path('LOCK'), `${otherPid}\n`);
    await expect(fixture.log().open()).rejects.toThrow(
      `data directory ${fixture.dir} is in use by another Switchboard process (pid ${otherPid}); stop it or use another DATA_DIR`,
    );
    expect(await readFile(fixture.path('LOCK'), 'utf8')).toBe(`${otherPid}\n`);
  });

  it.each([
    ['a dead pid (kill -9)', () => String(spawnSync(process.execPath, ['-e', '']).pid)],
    ['our own pid from an earlier life (container restart)', () => String(process.pid)],
    ['no pid at all (crash while creating it)', () => ''],
  ])('takes over a stale lock holding %s', async (_, contents) => {
    await writeFile(fixture.path('LOCK'), contents());
    const log = fixture.log();
    await log.open();
    expect(fixture.logger.warnings).toEqual([expect.stringContaining('taking over stale lock')]);
    expect(await readFile(fixture.path('LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    await log.append(put(1));
  });

  it('is released by close() and by a failed open()', async () => {
    const log = fixture.log();
    await log.open();
    await log.close();
    await expect(stat(fixture.path('LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });

    await writeFile(fixture.path('wal-00000000000000000009.log'), 'bad'); // a seq gap after wal-1
    await expect(fixture.log().open()).rejects.toBeInstanceOf(LogCorruptionError);
    await expect(stat(fixture.path('LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
