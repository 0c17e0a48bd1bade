/**
 * What a failed write through the log tells its caller, so an HTTP layer can answer 503 with the
 * message as its one-line body and a client knows whether retrying may duplicate the write:
 * - `not-appended`: the entry is definitely not in the log (never sent, refused, or settled by
 *   reading the log after a dropped connection); retrying is safe.
 * - `unknown`: the request may have reached the log and contact was not regained in time to
 *   settle it; the entry may still appear (every replica then applies it as usual).
 * - `unreplicated`: the entry is in the log but fewer replicas than required acknowledged it, so
 *   a failover may lose it.
 */
export type LogWriteOutcome = 'not-appended' | 'unknown' | 'unreplicated';

/** The log cannot serve a request right now; `outcome` is set for writes (see above). */
export class LogUnavailableError extends Error {
  constructor(
    message: string,
    readonly outcome?: LogWriteOutcome,
    options?: ErrorOptions,
  ) {
    super(oneLine(message), options);
    this.name = 'LogUnavailableError';
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
