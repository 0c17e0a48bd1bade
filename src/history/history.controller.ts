import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsulQuery, type RawQuery } from '../common/consul-query.js';
import { clientGone, sendJson } from '../common/consul-reply.js';
import { keyFromUrl } from '../common/key-path.js';
import { HistoryService } from './history.service.js';

@Controller('v1')
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @Get('history/*')
  async events(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = new ConsulQuery(request.query as RawQuery);
    sendJson(reply, 200, await this.history.events(keyFromUrl(request.url, '/v1/history/'), query, clientGone(reply)));
  }

  @Get('versions/*')
  versions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    sendJson(reply, 200, this.history.versions(keyFromUrl(request.url, '/v1/versions/')));
  }
}
