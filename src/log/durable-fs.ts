import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Suffix of files being written; anything still carrying it at startup is crash debris. */
export const TMP_SUFFIX = '.tmp';

/**
 * Makes directory entries (creates, renames) durable: without it a crash can forget a renamed
 * snapshot or a new segment even though the file's own bytes were fsynced.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some platforms cannot fsync a directory at all; there is nothing better to do there.
    if (!isCode(error, 'EISDIR', 'EINVAL', 'EPERM')) throw error;
  } finally {
    await handle.close();
  }
}

/** write(2) may write less than asked (disk full, signals); never leave the rest unwritten. */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, null);
    if (bytesWritten === 0) throw new Error(`write made no progress (${done} of ${bytes.length} bytes)`);
    done += bytesWritten;
  }
}

/**
 * Writes `dir/name` so that after a crash it is either absent (or its previous version) or
 * complete: write a tmp file, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(dir: string, name: string, chunks: readonly Buffer[]): Promise<void> {
  const target = join(dir, name);
  const tmp = target + TMP_SUFFIX;
  const handle = await open(tmp, 'w');
  try {
    for (const chunk of chunks) await writeAll(handle, chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(tmp, target);
  await fsyncDir(dir);
}

export function isCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
