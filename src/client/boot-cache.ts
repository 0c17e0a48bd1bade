import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type KvEntry, kvEntry, type WireKvEntry, wireEntry } from './wire.js';

/**
 * The last good state of a prefix on local disk, so a service can boot while the server is
 * down. Written atomically (temporary file, fsync, rename, fsync of the directory): a crash
 * leaves the previous cache or the new one, never a torn file.
 */
export interface CachedState {
  readonly prefix: string;
  /** The index the entries were current at. */
  readonly index: number;
  readonly entries: readonly KvEntry[];
}

interface CacheFile {
  readonly format: 'switchboard-cache/1';
  readonly prefix: string;
  readonly index: number;
  readonly entries: readonly WireKvEntry[];
}

export async function writeBootCache(file: string, state: CachedState): Promise<void> {
  const content: CacheFile = { format: 'switchboard-cache/1', prefix: state.prefix, index: state.index, entries: state.entries.map(wireEntry) };
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(content));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  await syncDirectory(dirname(file));
}

/** The cached state of `prefix`, or undefined when there is no cache file. */
export async function readBootCache(file: string, prefix: string): Promise<CachedState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const content = JSON.parse(text) as CacheFile;
  if (content.format !== 'switchboard-cache/1') throw new Error(`${file} is not a Switchboard cache file`);
  if (content.prefix !== prefix) throw new Error(`${file} caches prefix ${JSON.stringify(content.prefix)}, not ${JSON.stringify(prefix)}`);
  return { prefix, index: content.index, entries: content.entries.map(kvEntry) };
}

/** Makes the rename durable; platforms that cannot open a directory skip it. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Not supported here (e.g. Windows): the rename is still atomic, only less durable.
  } finally {
    await handle?.close();
  }
}
