import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32InSteps } from './crc-in-steps.js';

const MiB = 1024 * 1024;

describe('crc32InSteps', () => {
  it.each([0, 1, 2 * MiB - 1, 2 * MiB, 2 * MiB + 1, 5 * MiB + 7])('equals one crc32 call over %d bytes', async (size) => {
    const data = randomBytes(size);
    expect(await crc32InSteps(data)).toBe(crc32(data));
  });

  it('lets the event loop run between steps of a large buffer', async () => {
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    await crc32InSteps(Buffer.alloc(16 * MiB, 1));
    counting = false;
    // 16 MiB is eight steps: seven yields, each a turn in which other callbacks ran.
    expect(turns).toBeGreaterThanOrEqual(7);
  });
});
