import { Controller, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsulQuery, type RawQuery } from '../common/consul-query.js';
import { sendJson } from '../common/consul-reply.js';
import { TxnService } from './txn.service.js';

@Controller('v1/txn')
export class TxnController {
  constructor(private readonly txn: TxnService) {}

  @Put()
  async run(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = new ConsulQuery(request.query as RawQuery);
    // Consul parses index/wait on txn too and refuses bad values, though a txn never blocks.
    query.index();
    query.waitMs();
    const answer = await this.txn.run(Buffer.isBuffer(request.body) ? request.body : EMPTY, query);
    if (answer.health !== undefined) {
      reply.headers({
        'x-consul-knownleader': answer.health.connected ? 'true' : 'false',
        'x-consul-lastcontact': String(Math.max(0, Math.floor(answer.health.lastContactMs))),
      });
    }
    sendJson(reply, answer.status, answer.json);
  }
}

const EMPTY = Buffer.alloc(0);
