import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proposal } from './replicated-log.js';
import { FileLog, type FileLogLogger, type FileLogOptions } from './file-log.js';
import type { LogHarness } from './replicated-log.contract.js';
import { openSegmentFile, type OpenSegmentFile } from './segment-file.js';

/** Test helpers for FileLog specs: real files in a temp dir, a recording logger, I/O counters. */
export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'switchboard-log-'));
}

export interface RecordingLogger extends FileLogLogger {
  readonly warnings: string[];
}

export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), log: () => undefined };
}

/** Opens FileLogs on one temp dir and closes them all at the end. */
export class FileLogFixture {
  readonly logger = recordingLogger();
  private readonly logs: FileLog[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<FileLogFixture> {
    return new FileLogFixture(await makeTempDir());
  }

  log(options: Partial<FileLogOptions> = {}): FileLog {
    const log = new FileLog({ dataDir: this.dir, logger: this.logger, ...options });
    this.logs.push(log);
    return log;
  }

  async files(): Promise<string[]> {
    return (await readdir(this.dir)).sort();
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async cleanup(): Promise<void> {
    for (const log of this.logs) await log.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function fileLogHarness(): Promise<LogHarness> {
  const fixture = await FileLogFixture.create();
  return { log: fixture.log(), reopen: () => Promise.resolve(fixture.log()), cleanup: () => fixture.cleanup() };
}

export interface IoCounts {
  durableWrites: number;
}

/**
 * Wraps the real segment I/O to count durable writes and, when `beforeWrite` is given, to run a
 * hook (hold, fail) before each real one.
 */
export function countingSegments(beforeWrite?: (writeNumber: number) => Promise<void>): {
  counts: IoCounts;
  openSegment: OpenSegmentFile;
} {
  const counts: IoCounts = { durableWrites: 0 };
  const openSegment: OpenSegmentFile = async (path) => {
    const file = await openSegmentFile(path);
    return {
      appendDurable: async (bytes) => {
        counts.durableWrites++;
        await beforeWrite?.(counts.durableWrites);
        await file.appendDurable(bytes);
      },
      close: () => file.close(),
    };
  };
  return { counts, openSegment };
}

export function put(i: number): Proposal {
  return { node: 'node-a', proposal: i, command: { type: 'kv.set', key: `k/${i}`, value: Buffer.from(`v${i}`), flags: 0n } };
}

/** A promise plus its resolver, for holding I/O at a known point. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
