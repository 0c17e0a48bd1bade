import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogUnavailableError } from '../log/log-unavailable-error.js';
import { ConsulHttpError } from './consul-error.js';
import { sendEmpty, sendText } from './consul-reply.js';
import { allowedMethods } from './endpoints.js';

/** Consul's `kv_max_value_size` and default `txn_max_req_len`. */
export const MAX_BODY_BYTES = 512 * 1024;

/** Consul's 413 text; a chunked body has no declared size to quote. */
function tooLarge(request: FastifyRequest): string {
  const declared = request.headers['content-length'];
  return `Request body${declared === undefined ? '' : `(${declared} bytes)`} too large, max size: ${MAX_BODY_BYTES} bytes.`;
}

/**
 * Renders every error as Consul does: plain text, one line. Unknown routes become 405 (known
 * path, other method), 200 for OPTIONS, or Consul's 404 text. Anything unexpected is a 500 and
 * logged with its stack: a 500 is a bug.
 */
@Catch()
export class ConsulExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (reply.sent) return;
    if (exception instanceof ConsulHttpError) {
      void reply
        .code(exception.status)
        .headers({ 'content-type': 'text/plain; charset=utf-8', ...exception.headers })
        .send(exception.message);
      return;
    }
    if (exception instanceof NotFoundException) return this.unrouted(request, reply);
    // The log (Redis) is unreachable or could not settle a write: the server is fine, retry later.
    if (exception instanceof LogUnavailableError) return sendText(reply, 503, exception.message);
    if (exception instanceof PayloadTooLargeException || (exception instanceof HttpException && exception.getStatus() === 413)) {
      return sendText(reply, 413, tooLarge(request));
    }
    if (exception instanceof HttpException) return sendText(reply, exception.getStatus(), exception.message);
    this.logger.error(`${request.method} ${request.url}: ${exception instanceof Error ? exception.stack : String(exception)}`);
    sendText(reply, 500, exception instanceof Error ? exception.message : 'internal error');
  }

  private unrouted(request: FastifyRequest, reply: FastifyReply): void {
    const allow = allowedMethods(request.url);
    if (allow === undefined) return sendText(reply, 404, 'Invalid URL path: not a recognized HTTP API endpoint');
    reply.header('allow', allow);
    if (request.method === 'OPTIONS') return sendEmpty(reply, 200);
    sendText(reply, 405, `method ${request.method} not allowed`);
  }
}
