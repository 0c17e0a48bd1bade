/**
 * An error answered with Consul's plain-text body. Consul's messages are part of its wire
 * contract (clients match prefixes such as `invalid session`), so the message is sent verbatim.
 */
export class ConsulHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ConsulHttpError';
  }
}

export const badRequest = (message: string): ConsulHttpError => new ConsulHttpError(400, message);
