/**
 * Thrown by `FileLog.open()` when the log on disk is damaged somewhere a crash cannot explain
 * (bad checksum or impossible length before the tail, a seq gap, an undecodable record). The
 * log refuses to start rather than silently drop acknowledged entries; an operator decides.
 */
export class LogCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`log corrupted in ${file} at byte offset ${offset}: ${reason}`);
    this.name = 'LogCorruptionError';
  }
}
