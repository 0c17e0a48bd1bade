import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isCode } from './durable-fs.js';

/**
 * One Switchboard process per data directory: `LOCK` holds the owner's PID. A lock whose PID
 * is dead (kill -9, power loss) or is our own PID (a restarted container is often pid 1 again)
 * is stale and taken over. Instances inside this process are tracked in memory, because the
 * PID alone cannot tell two FileLogs of one process apart.
 *
 * The file is created with link(2) from a fully written temp file, so a LOCK never exists
 * without its PID and two racing processes cannot both create it.
 */
const LOCK_NAME = 'LOCK';
const heldInThisProcess = new Set<string>();

export class DataDirLock {
  private released = false;

  private constructor(
    private readonly key: string,
    private readonly path: string,
  ) {}

  static async acquire(dir: string, warn: (message: string) => void): Promise<DataDirLock> {
    const key = resolve(dir);
    if (heldInThisProcess.has(key)) {
      throw new Error(`data directory ${dir} is already open in this process (pid ${process.pid}); close it first`);
    }
    heldInThisProcess.add(key);
    const path = join(dir, LOCK_NAME);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await tryCreate(path)) return new DataDirLock(key, path);
        const owner = await readOwner(path);
        if (owner === 'gone') continue;
        if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
          throw new Error(
            `data directory ${dir} is in use by another Switchboard process (pid ${owner}); stop it or use another DATA_DIR`,
          );
        }
        warn(`taking over stale lock ${path} (owner pid ${owner ?? 'unreadable'} is not running)`);
        await rm(path, { force: true });
      }
      throw new Error(`could not take the lock ${path}: it kept changing hands; is another process starting?`);
    } catch (error) {
      heldInThisProcess.delete(key);
      throw error;
    }
  }

  /** Removes LOCK only if it is still ours; idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      if ((await readOwner(this.path)) === process.pid) await rm(this.path, { force: true });
    } finally {
      heldInThisProcess.delete(this.key);
    }
  }
}

async function tryCreate(path: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${process.pid}\n`);
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The owner's PID, undefined when unreadable, 'gone' when the file vanished meanwhile. */
async function readOwner(path: string): Promise<number | undefined | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return 'gone';
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else — still alive.
    return isCode(error, 'EPERM');
  }
}
