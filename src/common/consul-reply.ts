import type { FastifyReply, FastifyRequest } from 'fastify';

/** Query metadata every blocking-capable read carries, including its 404s (API.md §1.5). */
export interface QueryMeta {
  readonly index: number;
  readonly knownLeader: boolean;
  readonly lastContactMs: number;
}

export function setQueryMeta(reply: FastifyReply, meta: QueryMeta): FastifyReply {
  return reply.headers({
    // Consul clamps 0 to 1 so a client's next request really blocks.
    'x-consul-index': String(Math.max(1, meta.index)),
    'x-consul-knownleader': meta.knownLeader ? 'true' : 'false',
    'x-consul-lastcontact': String(Math.max(0, Math.floor(meta.lastContactMs))),
  });
}

export function sendJson(reply: FastifyReply, status: number, json: string): void {
  void reply.code(status).header('content-type', 'application/json').send(json);
}

/** Empty-body answers (a missing key) carry no Content-Type, as in Consul. */
export function sendEmpty(reply: FastifyReply, status: number): void {
  void reply.code(status).send();
}

export function sendText(reply: FastifyReply, status: number, text: string): void {
  void reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(text);
}

/**
 * An AbortSignal that fires when the client goes away before the answer is written, so a
 * long-poll releases its waiter at once. (The request's own 'close' fires when its body has
 * been read, so the response's is the one to watch.)
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export function rawQueryString(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at === -1 ? '' : request.url.slice(at + 1);
}
