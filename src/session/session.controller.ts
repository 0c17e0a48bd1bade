import { Controller, Get, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsulQuery, type RawQuery } from '../common/consul-query.js';
import { clientGone, sendJson, setQueryMeta } from '../common/consul-reply.js';
import { keyFromUrl } from '../common/key-path.js';
import { SessionService, type SessionSelector } from './session.service.js';

/** `/v1/session/*`; ids and node names are the rest of the path, decoded once. */
@Controller('v1/session')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  @Put('create')
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendJson(reply, 200, await this.sessions.create(Buffer.isBuffer(request.body) ? request.body : EMPTY));
  }

  @Put('destroy/*')
  async destroy(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.sessions.destroy(keyFromUrl(request.url, '/v1/session/destroy/'));
    sendJson(reply, 200, 'true');
  }

  @Put('renew/*')
  async renew(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendJson(reply, 200, await this.sessions.renew(keyFromUrl(request.url, '/v1/session/renew/')));
  }

  @Get('info/*')
  info(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.read({ id: keyFromUrl(request.url, '/v1/session/info/') }, request, reply);
  }

  @Get('node/*')
  node(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.read({ node: keyFromUrl(request.url, '/v1/session/node/') }, request, reply);
  }

  @Get('list')
  list(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.read('all', request, reply);
  }

  private async read(selector: SessionSelector, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = new ConsulQuery(request.query as RawQuery);
    const answer = await this.sessions.read(selector, query, clientGone(reply));
    const health = this.sessions.health();
    setQueryMeta(reply, { index: answer.index, knownLeader: health.connected, lastContactMs: health.lastContactMs });
    sendJson(reply, 200, answer.json);
  }
}

const EMPTY = Buffer.alloc(0);
