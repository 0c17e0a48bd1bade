import { Controller, Delete, Get, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsulQuery, type RawQuery } from '../common/consul-query.js';
import { clientGone, rawQueryString, sendEmpty, sendJson, setQueryMeta } from '../common/consul-reply.js';
import { keyFromUrl } from '../common/key-path.js';
import { keptCopy } from '../core/kept-bytes.js';
import type { LogHealth } from '../log/replicated-log.js';
import { KvService, type KvReadAnswer } from './kv.service.js';

const ROUTE = '/v1/kv/';

/** `/v1/kv/<key>`: the key is the raw path decoded once, so `%2F` inside a key is a `/`. */
@Controller('v1/kv')
export class KvController {
  constructor(private readonly kv: KvService) {}

  @Get('*')
  async read(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = new ConsulQuery(request.query as RawQuery);
    const signal = query.has('index') ? clientGone(reply) : NEVER_ABORTED;
    sendRead(reply, await this.kv.read(keyFromUrl(request.url, ROUTE), query, signal), this.kv.health());
  }

  @Put('*')
  async write(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // A copy for the state to keep (keptCopy): the parsed body can be a view into a much larger
    // socket read buffer, which the history and version lists would otherwise keep alive.
    const body = Buffer.isBuffer(request.body) ? keptCopy(request.body) : EMPTY;
    const query = new ConsulQuery(request.query as RawQuery);
    const ok = await this.kv.write(keyFromUrl(request.url, ROUTE), query, rawQueryString(request), body);
    sendJson(reply, 200, ok ? 'true' : 'false');
  }

  @Delete('*')
  async remove(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = new ConsulQuery(request.query as RawQuery);
    const ok = await this.kv.delete(keyFromUrl(request.url, ROUTE), query, rawQueryString(request));
    sendJson(reply, 200, ok ? 'true' : 'false');
  }
}

const EMPTY = Buffer.alloc(0);
const NEVER_ABORTED = new AbortController().signal;

function sendRead(reply: FastifyReply, answer: KvReadAnswer, health: LogHealth): void {
  setQueryMeta(reply, { index: answer.index, knownLeader: health.connected, lastContactMs: health.lastContactMs });
  switch (answer.kind) {
    case 'json':
      return sendJson(reply, 200, answer.json);
    case 'missing':
      return sendEmpty(reply, 404);
    case 'raw':
      // Raw values are user bytes: never let a browser sniff them into HTML (CVE-2020-25864).
      void reply
        .code(200)
        .headers({
          'content-type': 'text/plain',
          'x-content-type-options': 'nosniff',
          'content-security-policy': 'sandbox',
        })
        .send(answer.value);
  }
}
